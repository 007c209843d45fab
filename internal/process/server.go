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
	"bunsan/internal/health"
	"bunsan/internal/httpproxy"
	"bunsan/internal/metrics"
	"bunsan/internal/tlsconf"
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
	// stream is the L4 side (nil until a model is applied); streamView
	// publishes it to readers that must not take s.mu.
	stream     *streamState
	streamView atomic.Pointer[streamState]
	// mx counts for metrics and status; hc runs the active health checks.
	// Both live as long as the process, across reloads.
	mx     *metrics.Metrics
	hc     *health.Checker
	groups atomic.Pointer[[]*upstream.Group] // http groups served now
}

// listen returns the socket the previous binary passed on for addr, set
// up as so says, or a new one.
func (s *Server) listen(addr string, so config.Socket) (net.Listener, error) {
	ln, err := s.upg.inherited(addr)
	if err != nil || ln == nil {
		if err == nil {
			ln, err = listen(addr, so)
		}
		return ln, err
	}
	if err := tuneListener(ln, so); err != nil {
		return nil, err
	}
	return ln, nil
}

// sockets returns every listening socket, http and stream, for a binary
// upgrade.
func (s *Server) sockets() (tcp map[string]net.Listener, udp map[string]*net.UDPConn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tcp, udp = s.stream.sockets()
	for a, l := range s.listeners {
		tcp[a] = l.ln
	}
	return tcp, udp
}

// listener is one listening address with its HTTP server. Its TLS
// configuration is read per handshake, so a reload can change
// certificates without closing the socket.
type listener struct {
	addr string
	tls  bool
	ln   net.Listener
	sock config.Socket // as last set on ln
	srv  httpServer
	cfg  atomic.Pointer[tls.Config]
}

// NewServer makes a server with no configuration applied yet.
func NewServer(log *slog.Logger) *Server {
	s := &Server{log: log, store: upstream.NewStore(nil), listeners: map[string]*listener{}}
	s.hc = health.New(health.Options{Log: log})
	s.mx = metrics.New(metrics.Options{HTTP: s.httpGroups, Stream: s.streamGroups, Health: s.hc.Metrics})
	return s
}

// httpGroups lists the http upstream groups served now, for metrics and
// the dashboard. It reads an atomic, never s.mu: a scrape in flight must
// not wait for an Apply or a Shutdown that waits for it.
func (s *Server) httpGroups() []*upstream.Group {
	if p := s.groups.Load(); p != nil {
		return *p
	}
	return nil
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
	snap, err := httpproxy.BuildWith(m, s.store, s.log, httpproxy.Extras{Metrics: s.mx, Endpoint: s.endpoint(m)})
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
		ln, err := s.listen(addr, p.sock)
		if err != nil {
			for _, o := range opened {
				o.ln.Close()
			}
			return fmt.Errorf("bind() to %s failed: %w", addr, err)
		}
		opened[addr] = &listener{addr: addr, tls: p.tls != nil, ln: ln, sock: p.sock}
	}
	if err := s.applyStream(m); err != nil {
		for _, o := range opened {
			o.ln.Close()
		}
		return err
	}
	// Checks start before the snapshot serves, so servers of a mandatory
	// check take no request before their first check.
	s.hc.Start(health.Targets(m, snap.Group, s.stream.group))
	var groups []*upstream.Group
	if m.HTTP != nil {
		for _, u := range m.HTTP.Upstreams {
			groups = append(groups, snap.Group(u.Name))
		}
	}
	s.groups.Store(&groups)
	s.current.Store(snap)
	s.model = m
	s.mx.Loaded()
	for addr, l := range s.listeners {
		if _, keep := want[addr]; !keep || opened[addr] != nil {
			delete(s.listeners, addr)
			go l.srv.Shutdown(context.Background())
		}
	}
	for addr, l := range opened {
		s.serve(l, want[addr])
		s.listeners[addr] = l
	}
	for addr, p := range want {
		l := s.listeners[addr]
		if p.tls != nil {
			l.cfg.Store(p.tls)
		}
		if err := retune(l.ln, &l.sock, p.sock); err != nil {
			// The values were checked when the configuration loaded; a
			// kernel refusing one leaves the socket as it was.
			s.log.Error("cannot change listen socket parameters", "listen", addr, "error", err)
		}
	}
	return nil
}

// serve starts the HTTP server of one listening address. Which HTTP
// versions it speaks is fixed here, when the socket opens: over TLS, ALPN
// in the per-address TLS configuration (swapped on reload) offers h2 or
// not; without TLS, h2c prior knowledge is on where configured. Plain
// HTTP/1 addresses are served by h1server, the others by net/http behind
// the guard.
func (s *Server) serve(l *listener, p plan) {
	rt := &httpproxy.Router{Addr: l.addr, Current: &s.current}
	var h http.Handler = rt
	if !l.tls {
		h = tlsconf.DefaultACME.HTTPChallenges(h) // ACME HTTP-01 is answered on plain ports
	}
	// stub_status counts every request and connection.
	conns := s.mx.Conns()
	h = conns.Wrap(h)
	connCtx := func(ctx context.Context, c net.Conn) context.Context {
		return conns.ConnContext(httpproxy.ConnContext(ctx, c), c)
	}
	ln := l.ln
	if !l.tls && !p.h2c {
		trackCtx := func(ctx context.Context, c net.Conn) context.Context {
			return conns.Track(httpproxy.ConnContext(ctx, c))
		}
		l.srv = newH1Server(h, rt.Limits, trackCtx, conns.ContextState, s.log)
	} else {
		srv := newHTTPServer(h, rt.Limits, s.log)
		srv.Protocols = p.httpProtocols()
		if l.tls {
			ln = tls.NewListener(ln, &tls.Config{
				GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) { return l.cfg.Load(), nil },
				NextProtos:         []string{"h2", "http/1.1"},
			})
			// http.Server turns HTTP/2 on only when its own TLS configuration
			// lists h2; the per-address one decides what each client is offered.
			srv.TLSConfig = &tls.Config{NextProtos: []string{"h2", "http/1.1"}}
		}
		ln = guardPlain(ln, l.tls, rt.Limits)
		srv.ConnContext = connCtx
		srv.ConnState = conns.ConnState
		l.srv = srv
	}
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
	s.hc.Stop()
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
	s.hc.Stop()
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
