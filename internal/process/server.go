package process

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"

	"bunsan/internal/config"
	"bunsan/internal/httpproxy"
	"bunsan/internal/upstream"
)

// Server is a running bunsan: its listeners, the current snapshot and the
// upstream state that outlives snapshots.
type Server struct {
	log   *slog.Logger
	store *upstream.Store

	mu        sync.Mutex // serialises Apply and Stop
	model     *config.Model
	current   atomic.Pointer[httpproxy.Snapshot]
	listeners map[string]*listener
	wg        sync.WaitGroup
	// upg, when set, supplies listeners inherited from the previous binary.
	upg *upgrader
}

// listener is one listening address with its HTTP server. Its TLS
// configuration is read per handshake, so a reload can change
// certificates without closing the socket.
// listen returns the socket the previous binary passed on for addr, or a
// new one.
func (s *Server) listen(addr string, reusePort bool) (net.Listener, error) {
	if ln, err := s.upg.inherited(addr); ln != nil || err != nil {
		return ln, err
	}
	return listen(addr, reusePort)
}

// sockets returns the listening sockets, for a binary upgrade.
func (s *Server) sockets() map[string]net.Listener {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]net.Listener, len(s.listeners))
	for a, l := range s.listeners {
		out[a] = l.ln
	}
	return out
}

type listener struct {
	addr string
	tls  bool
	ln   net.Listener
	srv  *http.Server
	cfg  atomic.Pointer[tls.Config]
}

// NewServer makes a server with no configuration applied yet.
func NewServer(log *slog.Logger) *Server {
	return &Server{log: log, store: upstream.NewStore(nil), listeners: map[string]*listener{}}
}

// Addrs returns the bound address of each listener (useful with port 0).
func (s *Server) Addrs() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]string{}
	for a, l := range s.listeners {
		out[a] = l.ln.Addr().String()
	}
	return out
}

// Apply builds a snapshot from m and makes it current: listeners that stay
// are kept, new ones open, removed ones close after their requests end.
// On any error nothing changes and the old configuration keeps serving.
func (s *Server) Apply(m *config.Model) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	snap, err := httpproxy.Build(m, s.store, s.log)
	if err != nil {
		return err
	}
	want, err := listenPlan(m, s.log)
	if err != nil {
		return err
	}
	// Open what is new before changing anything, so a port in use fails
	// the whole apply.
	opened := map[string]*listener{}
	for addr, p := range want {
		if l, ok := s.listeners[addr]; ok && l.tls == (p.tls != nil) {
			continue
		}
		ln, err := s.listen(addr, p.reusePort)
		if err != nil {
			for _, o := range opened {
				o.ln.Close()
			}
			return fmt.Errorf("bind() to %s failed: %w", addr, err)
		}
		opened[addr] = &listener{addr: addr, tls: p.tls != nil, ln: ln}
	}
	if err := s.applyStream(m); err != nil {
		for _, o := range opened {
			o.ln.Close()
		}
		return err
	}
	s.current.Store(snap)
	s.model = m
	for addr, l := range s.listeners {
		if _, keep := want[addr]; !keep || opened[addr] != nil {
			delete(s.listeners, addr)
			go l.srv.Shutdown(context.Background())
		}
	}
	for addr, l := range opened {
		s.serve(l)
		s.listeners[addr] = l
	}
	for addr, p := range want {
		if p.tls != nil {
			s.listeners[addr].cfg.Store(p.tls)
		}
	}
	return nil
}

func (s *Server) serve(l *listener) {
	l.srv = newHTTPServer(&httpproxy.Router{Addr: l.addr, Current: &s.current}, s.log)
	ln := l.ln
	if l.tls {
		ln = tls.NewListener(ln, &tls.Config{
			GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) { return l.cfg.Load(), nil },
			NextProtos:         []string{"h2", "http/1.1"},
		})
		l.srv.TLSConfig = &tls.Config{}
	}
	ln = guardPlain(ln, l.tls, l.srv)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := l.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("listener stopped", "addr", l.addr, "error", err)
		}
	}()
}

// Model returns the configuration being served.
func (s *Server) Model() *config.Model {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.model
}

// Shutdown stops accepting and waits for requests in flight, up to ctx.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	var errs []error
	for _, l := range s.sortedListeners() {
		if err := l.srv.Shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	s.listeners = map[string]*listener{}
	errs = append(errs, s.shutdownStream(ctx))
	s.mu.Unlock()
	s.wg.Wait()
	return errors.Join(errs...)
}

// Close stops at once, dropping requests in flight.
func (s *Server) Close() {
	s.mu.Lock()
	for _, l := range s.sortedListeners() {
		l.srv.Close()
	}
	s.listeners = map[string]*listener{}
	s.closeStream()
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *Server) sortedListeners() []*listener {
	out := make([]*listener, 0, len(s.listeners))
	for _, l := range s.listeners {
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].addr < out[j].addr })
	return out
}
