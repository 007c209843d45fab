package stream

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"syscall"

	"bunsan/internal/upstream"
)

// DefaultUDPSessions bounds the session table of one UDP listener: a
// flood of new source addresses cannot grow memory without limit.
// Datagrams from new clients beyond it are dropped until sessions end.
const DefaultUDPSessions = 16384

// udpSession binds one client address to one backend socket, as nginx's
// UDP session: datagrams from the client go to the backend, datagrams
// from the backend go back to the client, until proxy_responses answers
// arrived, proxy_timeout passes without traffic, or the listener closes.
type udpSession struct {
	s     *session
	srv   *server
	up    *net.UDPConn
	g     *upstream.Group
	peer  *upstream.Peer
	table *udpTable

	mu        sync.Mutex
	requests  int
	responses int
	unbound   bool // removed from the table: new datagrams start a new session
}

// udpTable is one UDP listener's sessions by client address.
type udpTable struct {
	mu       sync.Mutex
	sessions map[netip.AddrPort]*udpSession
}

func (t *udpTable) unbind(from netip.AddrPort, us *udpSession) {
	t.mu.Lock()
	if t.sessions[from] == us {
		delete(t.sessions, from)
	}
	t.mu.Unlock()
	us.mu.Lock()
	us.unbound = true
	us.mu.Unlock()
}

// ServeUDP reads datagrams on pc for the listen key until pc is closed.
func (p *Proxy) ServeUDP(pc *net.UDPConn, key string) error {
	t := &udpTable{sessions: map[netip.AddrPort]*udpSession{}}
	defer func() {
		t.mu.Lock()
		for _, us := range t.sessions {
			us.up.Close()
		}
		t.mu.Unlock()
	}()
	local := addrPort(pc.LocalAddr())
	buf := make([]byte, 64<<10)
	for {
		n, from, err := pc.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			continue
		}
		t.mu.Lock()
		us := t.sessions[from]
		t.mu.Unlock()
		if us != nil && us.send(buf[:n], from) {
			continue
		}
		// No session, or it ended between the lookup and the send.
		if us = p.newUDPSession(pc, key, t, from, local); us != nil {
			us.send(buf[:n], from)
		}
	}
}

// newUDPSession starts a session for a new client address, or returns nil
// when it is refused (deny, limit_conn, full table, no backend).
func (p *Proxy) newUDPSession(pc *net.UDPConn, key string, t *udpTable, from, local netip.AddrPort) *udpSession {
	snap := p.current.Load()
	b := snap.binds[key]
	if b == nil {
		return nil
	}
	srv := b.srv
	s := p.newSession("UDP", from, local)
	s.sets = srv.sets
	if !allowed(srv.cfg.Access, from.Addr()) {
		s.status = statusForbidden
		writeLogs(s, srv.logs)
		return nil
	}
	if srv.ret != nil {
		// return TEXT: one datagram back, no session.
		out := srv.ret.eval(s, nil)
		pc.WriteToUDPAddrPort(out, from)
		s.bytesSent = int64(len(out))
		writeLogs(s, srv.logs)
		return nil
	}
	t.mu.Lock()
	full := len(t.sessions) >= p.udpSessions
	t.mu.Unlock()
	if full {
		p.log.Warn("stream: UDP session table full; datagram dropped", "client", from)
		return nil
	}
	release, ok := acquireLimits(s, srv.limits)
	if !ok {
		s.status = statusUnavailable
		writeLogs(s, srv.logs)
		return nil
	}
	up, g, peer := p.connectUDP(s, srv, snap)
	if up == nil {
		release()
		s.status = statusBadGateway
		writeLogs(s, srv.logs)
		return nil
	}
	us := &udpSession{s: s, srv: srv, up: up, g: g, peer: peer, table: t}
	t.mu.Lock()
	t.sessions[from] = us
	t.mu.Unlock()
	p.track(up)
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		defer p.untrack(up)
		defer release()
		us.receive(pc, from)
	}()
	return us
}

// connectUDP "connects" a UDP socket to a backend chosen as for TCP.
// A UDP connect fails only on local errors, so failover rarely applies;
// an ICMP refusal shows up on the first read instead.
func (p *Proxy) connectUDP(s *session, srv *server, snap *Snapshot) (*net.UDPConn, *upstream.Group, *upstream.Peer) {
	g, addr := srv.group, srv.addr
	if srv.pass != nil {
		name := string(srv.pass.eval(s, nil))
		if g = snap.groups[name]; g == nil {
			addr = name
		}
	}
	var peer *upstream.Peer
	if g != nil {
		var key []byte
		if t := snap.hashKey[g.Name()]; t != nil {
			key = t.eval(s, nil)
		}
		var err error
		peer, err = g.Pick(&upstream.PickRequest{ClientAddr: s.remote.Addr().Unmap(), HashKey: key, Tried: &s.tried})
		if err != nil {
			return nil, nil, nil
		}
		addr = peer.Addr()
	}
	s.upstreams = append(s.upstreams, addr)
	var laddr *net.UDPAddr
	if a, ok := srv.dialer.LocalAddr.(*net.TCPAddr); ok {
		laddr = &net.UDPAddr{IP: a.IP, Port: a.Port}
	}
	raddr, err := net.ResolveUDPAddr("udp", addr)
	var c *net.UDPConn
	if err == nil {
		c, err = net.DialUDP("udp", laddr, raddr)
	}
	if err != nil {
		if g != nil {
			g.Done(peer, upstream.Outcome{Result: upstream.ConnectError})
		}
		p.log.Error("stream: udp connect failed", "upstream", addr, "error", err)
		return nil, nil, nil
	}
	s.upConnect = 0
	return c, g, peer
}

// send forwards one client datagram; after proxy_requests datagrams the
// client's next one starts a new session. It returns false, sending
// nothing, when the session is no longer bound to the client.
func (us *udpSession) send(b []byte, from netip.AddrPort) bool {
	us.mu.Lock()
	if us.unbound {
		us.mu.Unlock()
		return false
	}
	us.requests++
	us.s.bytesReceived += int64(len(b))
	last := us.srv.cfg.Requests > 0 && us.requests >= us.srv.cfg.Requests
	us.mu.Unlock()
	us.up.Write(b)
	if last {
		us.table.unbind(from, us)
	}
	return true
}

// done reports whether every expected response arrived: proxy_responses
// per request received. The caller holds us.mu.
func (us *udpSession) done() bool {
	r := us.srv.cfg.Responses
	return r >= 0 && us.responses >= r*us.requests
}

// receive relays the backend's datagrams to the client until the session
// ends, then logs it.
func (us *udpSession) receive(pc *net.UDPConn, from netip.AddrPort) {
	p, s := us.s.p, us.s
	defer func() {
		us.table.unbind(from, us)
		us.up.Close()
		s.upSession = p.now().Sub(s.start)
		if us.g != nil {
			res := upstream.Success
			if s.status == statusBadGateway {
				res = upstream.ConnectError
			}
			us.g.Done(us.peer, upstream.Outcome{Result: res, ResponseTime: s.upSession})
		}
		us.mu.Lock()
		writeLogs(s, us.srv.logs)
		us.mu.Unlock()
	}()
	buf := make([]byte, 64<<10)
	for {
		if t := us.srv.cfg.Timeout; t > 0 {
			us.up.SetReadDeadline(p.now().Add(t))
		}
		n, err := us.up.Read(buf)
		if err != nil {
			if errors.Is(err, syscall.ECONNREFUSED) {
				us.mu.Lock()
				if us.responses == 0 {
					s.status = statusBadGateway
				}
				us.mu.Unlock()
			}
			return
		}
		us.mu.Lock()
		us.responses++
		s.bytesSent += int64(n)
		fin := us.done()
		us.mu.Unlock()
		if fin {
			// Unbind before the client sees the answer, so that its next
			// datagram starts a new session rather than joining this one.
			us.table.unbind(from, us)
		}
		if _, err := pc.WriteToUDPAddrPort(buf[:n], from); err != nil || fin {
			return
		}
	}
}
