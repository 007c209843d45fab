package process

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"

	"bunsan/internal/config"
	"bunsan/internal/stream"
	"bunsan/internal/upstream"
)

// streamState is a Server's stream (L4) side: the proxy with its live
// state (its own upstream Store, since nginx keeps http and stream
// upstream names apart) and the listening sockets by listen key.
type streamState struct {
	proxy     *stream.Proxy
	snap      atomic.Pointer[stream.Snapshot] // served now, for the API and metrics
	listeners map[string]*streamListener
	// usr1 reopens the stream access logs on SIGUSR1, beside the error
	// log that Run reopens (signal.Notify delivers to every channel).
	usr1     chan os.Signal
	usr1Done chan struct{}
}

// watchUSR1 starts reopening the access logs on SIGUSR1.
func (st *streamState) watchUSR1(log *slog.Logger) {
	st.usr1, st.usr1Done = make(chan os.Signal, 1), make(chan struct{})
	signal.Notify(st.usr1, syscall.SIGUSR1)
	go func() {
		defer close(st.usr1Done)
		for range st.usr1 {
			if err := st.proxy.ReopenLogs(); err != nil {
				log.Error("reopening stream access logs failed", "error", err)
			}
		}
	}()
}

// stopUSR1 stops watching; safe when never started.
func (st *streamState) stopUSR1() {
	if st.usr1 == nil {
		return
	}
	signal.Stop(st.usr1)
	close(st.usr1)
	<-st.usr1Done
	st.usr1 = nil
}

// streamListener is one stream socket and the loop serving it.
type streamListener struct {
	key  string
	ln   net.Listener  // tcp
	pc   *net.UDPConn  // udp
	sock config.Socket // as last set on ln
	done chan struct{} // closed when the serve loop returns
}

func (l *streamListener) close() {
	if l.ln != nil {
		l.ln.Close()
	} else {
		l.pc.Close()
	}
}

// streamState returns the stream side, made on first use (s.mu held).
func (s *Server) streamState() *streamState {
	if s.stream == nil {
		s.stream = &streamState{proxy: stream.New(s.log, upstream.NewStore(nil)), listeners: map[string]*streamListener{}}
		s.stream.watchUSR1(s.log)
	}
	return s.stream
}

// applyStream starts, keeps or stops the stream (L4) listeners for m.
// It is called with s.mu held, before the HTTP snapshot is swapped; an
// error leaves everything as it was.
func (s *Server) applyStream(m *config.Model) error {
	st := s.streamState()
	snap, err := st.proxy.Build(m.Stream)
	if err != nil {
		return fmt.Errorf("stream: %w", err)
	}
	want := map[string]bool{}
	var keep []stream.Listen
	opened := map[string]*streamListener{}
	for _, l := range snap.Listens() {
		want[l.Key] = true
		if st.listeners[l.Key] != nil {
			keep = append(keep, l)
			continue
		}
		sl, err := s.openStream(l)
		if err != nil {
			for _, o := range opened {
				o.close()
			}
			return fmt.Errorf("bind() to %s (%s) failed: %w", l.Addr, l.Network, err)
		}
		opened[l.Key] = sl
	}
	st.proxy.Swap(snap)
	st.snap.Store(snap)
	s.streamView.Store(st)
	for key, l := range st.listeners {
		if !want[key] {
			// Sessions on it go on with their snapshot; only accepting stops.
			l.close()
			delete(st.listeners, key)
		}
	}
	for _, l := range keep {
		sl := st.listeners[l.Key]
		if err := retune(sl.ln, &sl.sock, l.Socket); err != nil {
			// Checked when the configuration loaded; a kernel refusing
			// a value leaves the socket as it was.
			s.log.Error("cannot change listen socket parameters", "listen", l.Key, "error", err)
		}
	}
	for key, l := range opened {
		st.listeners[key] = l
		go s.serveStream(st.proxy, l)
	}
	return nil
}

// openStream opens a stream socket, or takes the one the previous binary
// passed on in an upgrade.
func (s *Server) openStream(l stream.Listen) (*streamListener, error) {
	sl := &streamListener{key: l.Key, sock: l.Socket, done: make(chan struct{})}
	if ln, pc, err := s.upg.inheritedStream(l.Network, l.Addr); err != nil {
		return nil, err
	} else if ln != nil || pc != nil {
		sl.ln, sl.pc = ln, pc
		if err := tuneListener(ln, l.Socket); err != nil {
			sl.close()
			return nil, err
		}
		return sl, nil
	}
	if l.Network == "tcp" {
		ln, err := listen(l.Addr, l.Socket)
		if err != nil {
			return nil, err
		}
		sl.ln = ln
		return sl, nil
	}
	pc, err := listenPacket(l.Addr, l.Socket)
	if err != nil {
		return nil, err
	}
	sl.pc = pc
	return sl, nil
}

func (s *Server) serveStream(p *stream.Proxy, l *streamListener) {
	defer close(l.done)
	var err error
	if l.ln != nil {
		err = p.ServeTCP(l.ln, l.key)
	} else {
		err = p.ServeUDP(l.pc, l.key)
	}
	if err != nil {
		s.log.Error("stream listener stopped", "listen", l.key, "error", err)
	}
}

// closeListeners stops accepting on every stream socket and waits for
// the serve loops to return.
func (st *streamState) closeListeners() {
	for key, l := range st.listeners {
		l.close()
		<-l.done
		delete(st.listeners, key)
	}
}

// shutdownStream stops the stream listeners and waits for sessions, up to ctx.
func (s *Server) shutdownStream(ctx context.Context) error {
	st := s.stream
	if st == nil {
		return nil
	}
	s.stream = nil
	s.streamView.Store(nil)
	st.stopUSR1()
	st.closeListeners()
	return st.proxy.Wait(ctx)
}

// closeStream stops the stream listeners at once.
func (s *Server) closeStream() {
	st := s.stream
	if st == nil {
		return
	}
	s.stream = nil
	s.streamView.Store(nil)
	st.stopUSR1()
	st.closeListeners()
	st.proxy.Close()
	st.proxy.Wait(context.Background())
}

// group returns the stream upstream group called name, for health
// checks; nil without a stream block.
func (st *streamState) group(name string) *upstream.Group {
	if snap := st.snap.Load(); snap != nil {
		return snap.Group(name)
	}
	return nil
}

// streamGroups lists the stream groups served now, for the API and
// metrics. It reads an atomic, never s.mu, as httpGroups does.
func (s *Server) streamGroups() []*upstream.Group {
	st := s.streamView.Load()
	if st == nil {
		return nil
	}
	if snap := st.snap.Load(); snap != nil {
		return snap.Groups()
	}
	return nil
}

// streamSockets returns the stream sockets by network and address, for a
// binary upgrade.
func (st *streamState) sockets() (tcp map[string]net.Listener, udp map[string]*net.UDPConn) {
	tcp, udp = map[string]net.Listener{}, map[string]*net.UDPConn{}
	if st == nil {
		return
	}
	for _, l := range st.listeners {
		addr := strings.TrimPrefix(strings.TrimPrefix(l.key, "tcp "), "udp ")
		if l.ln != nil {
			tcp[addr] = l.ln
		} else {
			udp[addr] = l.pc
		}
	}
	return
}
