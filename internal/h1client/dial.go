package h1client

import (
	"context"
	"crypto/tls"
	"net"
)

// connect opens a new connection to addr: TCP, then TLS when configured,
// both within ConnectTimeout. Failures are *net.OpError with Op "dial",
// so that callers tell them from failures of a request.
func (p *Pool) connect(ctx context.Context, addr string) (*conn, error) {
	if t := p.opts.ConnectTimeout; t > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t)
		defer cancel()
	}
	tcp, err := p.dial(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if p.opts.TLS == nil {
		return newConn(p, addr, tcp, tcp), nil
	}
	cfg := p.opts.TLS
	if cfg.ServerName == "" {
		// As Go's Transport did: the dialed host, which crypto/tls sends
		// as SNI only when it is a name, not an address.
		cfg = cfg.Clone()
		cfg.ServerName, _, _ = net.SplitHostPort(addr)
	}
	tc := tls.Client(tcp, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		tcp.Close()
		return nil, &net.OpError{Op: "dial", Net: "tcp", Addr: tcp.RemoteAddr(), Err: err}
	}
	return newConn(p, addr, tc, tcp), nil
}
