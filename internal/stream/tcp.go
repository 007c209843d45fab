package stream

import (
	"crypto/tls"
	"net"
	"time"

	"bunsan/internal/upstream"
)

// tlsHandshakeTimeout is nginx's ssl_handshake_timeout default.
const tlsHandshakeTimeout = 60 * time.Second

// maxProxyHeader bounds a PROXY header read from a client (a v2 header
// with TLVs can be long; nginx reads at most 4 KiB of them too).
const maxProxyHeader = 4096

// serveTCP runs one TCP session: preread, access, limits, connect with
// failover, copy, log. Each stage is its own function.
func (p *Proxy) serveTCP(c *net.TCPConn, key string) {
	snap := p.current.Load()
	b := snap.binds[key]
	if b == nil {
		c.Close()
		return
	}
	srv := b.srv
	p.track(c)
	defer p.untrack(c)
	defer c.Close()
	s := p.newSession("TCP", addrPort(c.RemoteAddr()), addrPort(c.LocalAddr()))
	s.sets = srv.sets
	defer writeLogs(s, srv.logs)

	var pre []byte // bytes read from the client ahead of the copy
	if b.ln.ProxyProtocol {
		var err error
		if pre, err = p.readProxyHeader(c, s, srv); err != nil {
			p.log.Info("stream: broken PROXY header", "client", s.peer, "error", err)
			s.status = statusBadRequest
			return
		}
	}
	if !allowed(srv.cfg.Access, s.remote.Addr()) {
		s.status = statusForbidden
		return
	}
	release, ok := acquireLimits(s, srv.limits)
	if !ok {
		p.log.Info("stream: limiting connections", "client", s.remote)
		s.status = statusUnavailable
		return
	}
	defer release()

	var front conn = c
	if b.ln.SSL {
		tc := tls.Server(withPrefix(c, pre), srv.tls)
		pre = nil
		tc.SetDeadline(p.now().Add(tlsHandshakeTimeout))
		if err := tc.Handshake(); err != nil {
			s.status = statusBadRequest
			return
		}
		tc.SetDeadline(time.Time{})
		st := tc.ConnectionState()
		s.tlsServerName, s.tlsProtocol = st.ServerName, versionName(st.Version)
		front = tc
	}
	if srv.cfg.SSLPreread {
		pre = p.prereadHello(front, s, srv, pre)
	}
	if srv.ret != nil {
		// return TEXT: answer and close, no backend (nginx's stream return).
		out := srv.ret.eval(s, nil)
		n, _ := front.Write(out)
		s.bytesSent += int64(n)
		return
	}

	up, g, peer := p.connect(s, srv, snap)
	if up == nil {
		s.status = statusBadGateway
		return
	}
	p.track(up)
	defer p.untrack(up)
	defer up.Close()
	started := p.now()
	firstByte := g != nil && g.Spec().LeastTimeMode == "first_byte" || srv.logsFirstByte
	if back, ok := p.sendPreamble(up, s, srv, pre); ok {
		p.pipe(s, srv, front, back, firstByte)
	} else {
		s.status = statusBadGateway
	}
	s.upSession = p.now().Sub(started)
	if g != nil {
		g.Done(peer, upstream.Outcome{
			Result:       upstream.Success,
			ConnectTime:  s.upConnect,
			HeaderTime:   headerTime(g, s),
			ResponseTime: s.upConnect + s.upSession,
		})
	}
}

// readProxyHeader reads a PROXY header from the client within
// proxy_protocol_timeout and returns the bytes that followed it in the same
// reads, which belong to the client's stream.
func (p *Proxy) readProxyHeader(c *net.TCPConn, s *session, srv *server) ([]byte, error) {
	c.SetReadDeadline(p.now().Add(srv.cfg.ProxyProtocolTimeout))
	defer c.SetReadDeadline(time.Time{})
	buf := make([]byte, 0, 512)
	for {
		if len(buf) == cap(buf) {
			if cap(buf) >= maxProxyHeader {
				return nil, errBadProxy
			}
			buf = append(buf, make([]byte, cap(buf))...)[:len(buf)]
		}
		n, err := c.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		h, size, perr := parseProxy(buf)
		if perr == nil {
			s.applyProxyHeader(h, srv.cfg.RealIPFrom)
			return buf[size:], nil
		}
		if perr != errIncomplete {
			return nil, perr
		}
		if err != nil {
			return nil, err
		}
	}
}

// prereadHello reads the client's ClientHello (up to
// preread_buffer_size, within preread_timeout) so that
// $ssl_preread_server_name can choose the backend. The bytes are kept
// and sent to the backend first. Anything that is not TLS passes with
// the variables empty.
func (p *Proxy) prereadHello(front conn, s *session, srv *server, pre []byte) []byte {
	limit := int(srv.cfg.PrereadBufferSize)
	buf := append(make([]byte, 0, limit), pre...)
	front.SetReadDeadline(p.now().Add(srv.cfg.PrereadTimeout))
	defer front.SetReadDeadline(time.Time{})
	for {
		h, err := parseClientHello(buf)
		if err == nil {
			s.hello = h
			return buf
		}
		if err != errIncomplete || len(buf) >= limit {
			return buf
		}
		n, rerr := front.Read(buf[len(buf):limit])
		buf = buf[:len(buf)+n]
		if rerr != nil && n == 0 {
			return buf
		}
	}
}

// sendPreamble writes what goes to the backend before the client's
// bytes: the PROXY header (proxy_protocol on), in the clear as nginx
// sends it; then, with proxy_ssl, the TLS handshake; then the bytes
// already read from the client. It returns the connection to copy to.
func (p *Proxy) sendPreamble(up *net.TCPConn, s *session, srv *server, pre []byte) (conn, bool) {
	if srv.cfg.ProxyProtocol {
		var hdr []byte
		if srv.cfg.ProxyProtocolVersion == 2 {
			hdr = appendProxyV2(make([]byte, 0, 52), s.remote, s.local)
		} else {
			hdr = appendProxyV1(make([]byte, 0, 64), s.remote, s.local)
		}
		if _, err := up.Write(hdr); err != nil {
			return nil, false
		}
	}
	var out conn = up
	if srv.cfg.SSLUpstream {
		tc, err := p.upstreamTLS(up, s, srv)
		if err != nil {
			p.log.Error("stream: TLS handshake with the backend failed", "upstream", s.upstreams[len(s.upstreams)-1], "error", err)
			return nil, false
		}
		out = tc
	}
	if len(pre) > 0 {
		if _, err := out.Write(pre); err != nil {
			return nil, false
		}
		s.bytesReceived += int64(len(pre))
	}
	return out, true
}

// pipe copies between client and backend until the session ends.
func (p *Proxy) pipe(s *session, srv *server, front, up conn, firstByte bool) {
	d := &duplex{timeout: srv.cfg.Timeout, halfClose: srv.cfg.HalfClose, clock: p.now}
	d.closeAll = func() { front.Close(); up.Close() }
	upDir := &direction{d: d, i: 0, dst: up, src: front}
	downDir := &direction{d: d, i: 1, dst: front, src: up}
	if firstByte {
		t0 := p.now().Add(-s.upConnect)
		downDir.firstByte = func(at time.Time) { s.upFirstByte = at.Sub(t0) }
	}
	if r := srv.cfg.UploadRate; r > 0 {
		upDir.limiter = newLimiter(r, p.rateNow, p.rateSleep)
	}
	if r := srv.cfg.DownloadRate; r > 0 {
		downDir.limiter = newLimiter(r, p.rateNow, p.rateSleep)
	}
	for _, dr := range []*direction{upDir, downDir} {
		if !dr.splices() {
			dr.buf = make([]byte, max(srv.cfg.BufferSize, 512))
		}
	}
	d.run(upDir, downDir)
	s.bytesReceived += upDir.n
	s.bytesSent += downDir.n
}

// prefixConn replays bytes already read before reading the connection,
// for a TLS handshake that follows a PROXY header in the same read.
type prefixConn struct {
	*net.TCPConn
	pre []byte
}

func withPrefix(c *net.TCPConn, pre []byte) conn {
	if len(pre) == 0 {
		return c
	}
	return &prefixConn{TCPConn: c, pre: pre}
}

func (c *prefixConn) Read(b []byte) (int, error) {
	if len(c.pre) > 0 {
		n := copy(b, c.pre)
		c.pre = c.pre[n:]
		return n, nil
	}
	return c.TCPConn.Read(b)
}

// headerTime is what least_time scores a session by: the connect time
// (least_time connect, and last_byte's first part), or the time to the
// backend's first byte (least_time first_byte) when one came.
func headerTime(g *upstream.Group, s *session) time.Duration {
	if g.Spec().LeastTimeMode == "first_byte" && s.upFirstByte >= 0 {
		return s.upFirstByte
	}
	return s.upConnect
}
