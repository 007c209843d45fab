package httpproxy

import (
	"context"
	"crypto/tls"
	"net"
	"sync"
	"time"
)

// GuardTLSListener guards HTTP/1 requests on a TLS listener (one whose
// Accept returns *tls.Conn). net/http reports r.TLS and negotiates HTTP/2
// only for a *tls.Conn it holds itself, so the guard cannot simply wrap
// the connection: the listener completes each handshake first (bounded
// by client_header_timeout, in its own goroutine so a slow client holds
// up no one), hands HTTP/2 connections over unwrapped (their framing is
// binary and checked by Go's HTTP/2 server), and wraps HTTP/1 ones in the
// guard, which keeps the TLS state for r.TLS.
func GuardTLSListener(ln net.Listener, limits func() Limits) net.Listener {
	return &tlsGuardListener{Listener: ln, limits: limits, conns: make(chan net.Conn), errc: make(chan error), closed: make(chan struct{})}
}

type tlsGuardListener struct {
	net.Listener
	limits    func() Limits
	conns     chan net.Conn
	errc      chan error
	closed    chan struct{}
	start     sync.Once
	closeOnce sync.Once
}

func (l *tlsGuardListener) Accept() (net.Conn, error) {
	l.start.Do(func() { go l.acceptLoop() })
	select {
	case c := <-l.conns:
		return c, nil
	case err := <-l.errc:
		return nil, err
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *tlsGuardListener) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	return l.Listener.Close()
}

func (l *tlsGuardListener) acceptLoop() {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			select {
			case l.errc <- err:
			case <-l.closed:
				return
			}
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				continue
			}
			return
		}
		go l.handshake(c)
	}
}

func (l *tlsGuardListener) handshake(c net.Conn) {
	tc, ok := c.(*tls.Conn)
	if !ok {
		l.deliver(newGuardConn(c, l.limits()))
		return
	}
	lim := l.limits()
	ctx := context.Background()
	if lim.HeaderTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, lim.HeaderTimeout)
		defer cancel()
	}
	if err := tc.HandshakeContext(ctx); err != nil {
		tc.Close()
		return
	}
	_ = tc.SetDeadline(time.Time{})
	cs := tc.ConnectionState()
	if cs.NegotiatedProtocol == "h2" {
		l.deliver(tc)
		return
	}
	g := newGuardConn(tc, lim)
	g.limits = l.limits
	g.tlsState = &cs
	l.deliver(g)
}

func (l *tlsGuardListener) deliver(c net.Conn) {
	select {
	case l.conns <- c:
	case <-l.closed:
		c.Close()
	}
}
