package stream

import (
	"context"
	"crypto/tls"
	"net"
	"sync"

	"bunsan/internal/tlsconf"
)

// upstreamTLS runs the TLS handshake with the backend (proxy_ssl on),
// within proxy_connect_timeout. The client configuration comes from
// tlsconf, built once per server and name so that sessions resume.
func (p *Proxy) upstreamTLS(up *net.TCPConn, s *session, srv *server) (*tls.Conn, error) {
	name := srv.cfg.UpstreamTLS.Name
	switch {
	case name == "$proxy_host":
		name = srv.passText(s)
	default:
		if t, err := compile(name, nil); err == nil {
			name = string(t.eval(s, nil))
		}
	}
	cfg, err := srv.clientTLS(name)
	if err != nil {
		return nil, err
	}
	tc := tls.Client(up, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), srv.cfg.ConnectTimeout)
	defer cancel()
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, err
	}
	return tc, nil
}

// clientTLS returns the server's client configuration for name.
func (srv *server) clientTLS(name string) (*tls.Config, error) {
	if v, ok := srv.tlsClients.Load(name); ok {
		return v.(*tls.Config), nil
	}
	cfg, err := tlsconf.ClientConfig(srv.cfg.UpstreamTLS, name)
	if err != nil {
		return nil, err
	}
	v, _ := srv.tlsClients.LoadOrStore(name, cfg)
	return v.(*tls.Config), nil
}

// passText is proxy_pass as nginx's $proxy_host sees it: the group name
// or the address, or the variable's value.
func (srv *server) passText(s *session) string {
	switch {
	case srv.group != nil:
		return srv.group.Name()
	case srv.pass != nil:
		return string(srv.pass.eval(s, nil))
	}
	return srv.addr
}

// tlsClientCache is the per-server cache of client configurations by
// server name.
type tlsClientCache = sync.Map
