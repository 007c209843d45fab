package h1server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Server serves HTTP/1.x on plain-text listeners. Its fields mirror the
// part of http.Server that bunsan uses; set them before Serve.
type Server struct {
	Handler     http.Handler
	ConnContext func(context.Context, net.Conn) context.Context
	ConnState   func(net.Conn, http.ConnState)
	// ConnStateContext, when set, is called instead of ConnState with
	// the connection's context (what ConnContext returned): a hook can
	// keep per-connection state there instead of in a map keyed by the
	// net.Conn, looked up twice per request.
	ConnStateContext func(context.Context, http.ConnState)
	// Limits is called at each accept (nil: DefaultLimits), so that a
	// reload applies to the connections accepted afterwards.
	Limits func() Limits
	// Refuse builds the request the handler answers for a refused head
	// (code is its status); the connection closes after the answer. Nil
	// sends a bare status line.
	Refuse   func(code int) *http.Request
	ErrorLog *slog.Logger

	mu         sync.Mutex
	listeners  map[*net.Listener]struct{}
	conns      map[*conn]struct{}
	onShutdown []func()
	parker     *parker
	inShutdown atomic.Bool
	// work hands connections to idle worker goroutines (workers.go).
	workOnce sync.Once
	work     chan *conn
	workDone chan struct{} // closed when the server closes
	stopOnce sync.Once
}

// Serve accepts connections on ln until Shutdown or Close, after which it
// returns http.ErrServerClosed.
func (s *Server) Serve(ln net.Listener) error {
	if !s.trackListener(&ln, true) {
		return http.ErrServerClosed
	}
	defer s.trackListener(&ln, false)
	var delay time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.shuttingDown() {
				return http.ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) || errors.Is(err, syscall.ECONNABORTED) {
				// Out of descriptors and the like: wait, as net/http does.
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				s.logf("accept error: %v; retrying in %v", err, delay)
				time.Sleep(delay)
				continue
			}
			return fmt.Errorf("accept on %s: %w", ln.Addr(), err)
		}
		delay = 0
		c := s.newConn(nc)
		if !s.track(c) {
			nc.Close()
			continue
		}
		c.setState(http.StateNew)
		s.run(c)
	}
}

func (s *Server) newConn(nc net.Conn) *conn {
	lim := DefaultLimits()
	if s.Limits != nil {
		lim = s.Limits()
	}
	if lim.HeaderBufSize <= 0 || lim.HeaderBufNum <= 0 {
		d := DefaultLimits()
		lim.HeaderBufSize, lim.HeaderBufNum = d.HeaderBufSize, d.HeaderBufNum
	}
	c := &conn{srv: s, nc: nc, lim: lim, remote: nc.RemoteAddr().String(), fresh: true}
	if sc, ok := nc.(syscall.Conn); ok {
		c.raw, _ = sc.SyscallConn()
	}
	c.io = nc
	if c.sio.Init(nc, c.raw) {
		c.io = &c.sio
	}
	ctx := context.Background()
	if s.ConnContext != nil {
		ctx = s.ConnContext(ctx, nc)
	}
	c.cx.init(ctx)
	// $server_addr reads the local address where net/http puts it; the
	// connection's context answers for that key itself.
	c.cx.local = nc.LocalAddr()
	c.ctx = &c.cx
	// nginx's client_header_timeout runs from the accept for the first
	// request.
	if d := lim.HeaderTimeout; d > 0 {
		_ = c.setReadDeadline(time.Now().Add(d))
	}
	return c
}

func (s *Server) trackListener(ln *net.Listener, add bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if add {
		if s.inShutdown.Load() {
			return false
		}
		if s.listeners == nil {
			s.listeners = map[*net.Listener]struct{}{}
		}
		s.listeners[ln] = struct{}{}
	} else {
		delete(s.listeners, ln)
	}
	return true
}

func (s *Server) track(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inShutdown.Load() {
		return false
	}
	if s.conns == nil {
		s.conns = map[*conn]struct{}{}
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *Server) untrack(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

func (s *Server) shuttingDown() bool { return s.inShutdown.Load() }

// RegisterOnShutdown registers f to run (in its own goroutine) when
// Shutdown begins.
func (s *Server) RegisterOnShutdown(f func()) {
	s.mu.Lock()
	s.onShutdown = append(s.onShutdown, f)
	s.mu.Unlock()
}

// Shutdown stops accepting, closes idle connections, lets requests in
// flight finish (their connections close after the response) and waits
// for them, up to ctx.
func (s *Server) Shutdown(ctx context.Context) error {
	s.inShutdown.Store(true)
	s.stopWorkers()
	s.mu.Lock()
	lnErr := s.closeListenersLocked()
	for _, f := range s.onShutdown {
		go f()
	}
	s.mu.Unlock()
	s.stopParker()
	wait := time.Millisecond
	t := time.NewTimer(wait)
	defer t.Stop()
	for {
		if s.closeIdle() {
			return lnErr
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			wait = min(2*wait, 500*time.Millisecond)
			t.Reset(wait)
		}
	}
}

// closeIdle closes idle connections and reports whether none is left.
func (s *Server) closeIdle() bool {
	s.mu.Lock()
	var idle []*conn
	n := len(s.conns)
	for c := range s.conns {
		if c.state.Load() == connIdle {
			idle = append(idle, c)
		}
	}
	s.mu.Unlock()
	for _, c := range idle {
		c.shut(false)
	}
	return n == 0
}

// Close closes the listeners and every connection at once.
func (s *Server) Close() error {
	s.inShutdown.Store(true)
	s.stopWorkers()
	s.mu.Lock()
	err := s.closeListenersLocked()
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	s.stopParker()
	for _, c := range conns {
		if !c.shut(false) {
			_ = c.nc.Close() // busy: its goroutine sees the error and cleans up
		}
	}
	return err
}

func (s *Server) closeListenersLocked() error {
	var err error
	for ln := range s.listeners {
		if e := (*ln).Close(); e != nil && err == nil {
			err = e
		}
	}
	return err
}

func (s *Server) logf(format string, args ...any) {
	if s.ErrorLog != nil {
		s.ErrorLog.Debug(fmt.Sprintf(format, args...))
	}
}
