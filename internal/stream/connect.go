package stream

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"time"

	"bunsan/internal/upstream"
)

// connect reaches a backend: the group's servers in the method's order,
// moving on after a connect error or timeout while proxy_next_upstream,
// _tries and _timeout allow. It returns nil when none could be reached.
func (p *Proxy) connect(s *session, srv *server, snap *Snapshot) (*net.TCPConn, *upstream.Group, *upstream.Peer) {
	g, addr := srv.group, srv.addr
	if srv.pass != nil {
		name := string(srv.pass.eval(s, nil))
		if g = snap.groups[name]; g == nil {
			if _, _, err := net.SplitHostPort(name); err != nil {
				p.log.Error("stream: proxy_pass names no upstream and no HOST:PORT", "value", name, "client", s.remote)
				return nil, nil, nil
			}
			addr = name
		}
	}
	if g == nil {
		s.upstreams = append(s.upstreams, addr)
		c, _, err := p.dial(srv, addr)
		if err != nil {
			p.log.Error("stream: connect failed", "upstream", addr, "error", err)
			return nil, nil, nil
		}
		return c, nil, nil
	}
	var key []byte
	if t := snap.hashKey[g.Name()]; t != nil {
		key = t.eval(s, nil)
	}
	tries := g.Tries()
	if n := srv.cfg.NextTries; n > 0 && n < tries {
		tries = n
	}
	req := upstream.PickRequest{ClientAddr: s.remote.Addr().Unmap(), HashKey: key, Tried: &s.tried}
	start := p.now()
	for attempt := 1; ; attempt++ {
		peer, err := g.Pick(&req)
		if err != nil {
			p.log.Error("stream: no live upstreams", "upstream", g.Name(), "client", s.remote)
			return nil, nil, nil
		}
		s.upstreams = append(s.upstreams, peer.Addr())
		c, took, err := p.dial(srv, peer.Addr())
		if err == nil {
			s.upConnect = took
			return c, g, peer
		}
		res := upstream.ConnectError
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
			res = upstream.Timeout
		}
		g.Done(peer, upstream.Outcome{Result: res})
		p.log.Error("stream: connect failed", "upstream", peer.Addr(), "error", err)
		nt := srv.cfg.NextTimeout
		if !srv.cfg.NextUpstream || attempt >= tries || (nt > 0 && p.now().Sub(start) >= nt) {
			return nil, nil, nil
		}
	}
}

// dial connects to addr within proxy_connect_timeout. An IP:port address
// (every upstream server written as one) is dialled without the
// resolver, which saves a dozen allocations per connection.
func (p *Proxy) dial(srv *server, addr string) (*net.TCPConn, time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), srv.cfg.ConnectTimeout)
	defer cancel()
	t0 := p.now()
	var c *net.TCPConn
	if ap, err := netip.ParseAddrPort(addr); err == nil {
		c, err = srv.dialer.DialTCP(ctx, "tcp", srv.bindAddr, ap)
		if err != nil {
			return nil, 0, err
		}
	} else {
		nc, err := srv.dialer.DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, 0, err
		}
		c = nc.(*net.TCPConn)
	}
	return c, p.now().Sub(t0), nil
}
