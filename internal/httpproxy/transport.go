package httpproxy

import (
	"context"
	"net"
	"net/http"
	"time"

	"bunsan/internal/config"
	"bunsan/internal/upstream"
)

// newTransport makes the connection pool for one proxy_pass. Backend
// connections are kept alive (nginx since 1.29.7 does so by default);
// Go's transport retries a request on a reused connection that the
// backend closed only when nothing of it was written, or when it is
// idempotent and its body can be sent again (GetBody), which is the safe
// rule for stale keep-alive connections.
func newTransport(p *config.Proxy, g *upstream.Group) *http.Transport {
	idle := 32
	idleTimeout := 60 * time.Second
	if g != nil {
		if s := g.Spec(); s.Keepalive > 0 {
			idle = s.Keepalive
		}
		if s := g.Spec(); s.KeepaliveTimeout > 0 {
			idleTimeout = g.Spec().KeepaliveTimeout
		}
	}
	d := &net.Dialer{Timeout: p.ConnectTimeout, KeepAlive: 30 * time.Second}
	t := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &timeoutConn{Conn: c, read: p.ReadTimeout, write: p.SendTimeout}, nil
		},
		ResponseHeaderTimeout: p.ReadTimeout,
		MaxIdleConnsPerHost:   idle,
		MaxIdleConns:          0,
		IdleConnTimeout:       idleTimeout,
		DisableCompression:    true,
		DisableKeepAlives:     p.HTTPVersion == "1.0",
		// Hop-by-hop headers are ours to manage; the client's
		// Accept-Encoding passes through untouched.
		ForceAttemptHTTP2: false,
	}
	return t
}

// timeoutConn applies proxy_read_timeout and proxy_send_timeout as nginx
// does: between two successive reads or writes, not to the whole
// response, so a long download that keeps flowing is not cut.
type timeoutConn struct {
	net.Conn
	read, write time.Duration
}

func (c *timeoutConn) Read(p []byte) (int, error) {
	if c.read > 0 {
		_ = c.Conn.SetReadDeadline(time.Now().Add(c.read))
	}
	return c.Conn.Read(p)
}

func (c *timeoutConn) Write(p []byte) (int, error) {
	if c.write > 0 {
		_ = c.Conn.SetWriteDeadline(time.Now().Add(c.write))
	}
	return c.Conn.Write(p)
}
