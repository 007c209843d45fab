package stream

import (
	"net"
	"net/netip"
	"time"

	"bunsan/internal/upstream"
)

// Session statuses, as nginx's $status in stream.
const (
	statusOK          = 200
	statusBadRequest  = 400 // broken PROXY header, TLS handshake failed
	statusForbidden   = 403 // deny
	statusServerError = 500
	statusBadGateway  = 502 // no backend could be reached
	statusUnavailable = 503 // limit_conn
)

// session is one TCP connection or UDP client binding, with everything
// the variables and the access log read.
type session struct {
	p     *Proxy
	id    uint64
	proto string // "TCP" or "UDP"
	start time.Time

	remote netip.AddrPort // the client, after set_real_ip_from
	peer   netip.AddrPort // the address that connected to us
	local  netip.AddrPort
	pp     *proxyHeader

	hello         clientHello
	tlsServerName string
	tlsProtocol   string

	upstreams   []string // every server tried, as $upstream_addr lists them
	upConnect   time.Duration
	upFirstByte time.Duration
	upSession   time.Duration

	bytesReceived int64 // from the client
	bytesSent     int64 // to the client
	status        int

	tried upstream.Tried
	// sets are the server's set directives, by variable name.
	sets map[string]*template
}

func (s *session) now() time.Time { return s.p.now() }

func addrPort(a net.Addr) netip.AddrPort {
	switch a := a.(type) {
	case *net.TCPAddr:
		return a.AddrPort()
	case *net.UDPAddr:
		return a.AddrPort()
	}
	return netip.AddrPort{}
}

func (p *Proxy) newSession(proto string, remote, local netip.AddrPort) *session {
	return &session{
		p:           p,
		id:          p.nextID.Add(1),
		proto:       proto,
		start:       p.now(),
		remote:      remote,
		peer:        remote,
		local:       local,
		status:      statusOK,
		upConnect:   -1,
		upFirstByte: -1,
		upSession:   -1,
	}
}

// applyProxyHeader takes the client's address from a PROXY header when
// the sender is trusted (set_real_ip_from), as nginx's stream realip
// module does; $proxy_protocol_addr is set either way.
func (s *session) applyProxyHeader(h proxyHeader, trusted []netip.Prefix) {
	s.pp = &h
	if h.Local {
		return
	}
	peer := s.peer.Addr().Unmap()
	for _, pfx := range trusted {
		if pfx.Contains(peer) {
			s.remote = h.Src
			return
		}
	}
}
