package h1client

import (
	"context"
	"crypto/tls"
	"net"
	"sync"
	"time"
)

// Options are the settings of one pool; the proxy maps its directives to
// them.
type Options struct {
	// ConnectTimeout bounds the TCP connect and the TLS handshake
	// (proxy_connect_timeout). ReadTimeout and SendTimeout apply between
	// two successive reads or writes, not to a whole response
	// (proxy_read_timeout, proxy_send_timeout). Zero: no limit.
	ConnectTimeout, ReadTimeout, SendTimeout time.Duration
	// MaxIdlePerHost is the idle connections kept per address (upstream
	// keepalive N); 0 means 32. IdleTimeout closes a connection idle for
	// longer (keepalive_timeout; 0 means 60s). MaxRequestsPerConn
	// (keepalive_requests; 0 means 1000) and MaxLifetime (keepalive_time;
	// 0 means 1h) retire a connection after its last response.
	MaxIdlePerHost     int
	IdleTimeout        time.Duration
	MaxRequestsPerConn int
	MaxLifetime        time.Duration
	// HTTP10 sends HTTP/1.0 requests with "Connection: close" and never
	// reuses a connection (proxy_http_version 1.0).
	HTTP10 bool
	// TLS, when set, speaks TLS to the backend (proxy_pass https://). An
	// empty ServerName is filled with the dialed host for each
	// connection; the session cache is shared.
	TLS *tls.Config
	// MaxHeadBytes bounds a response's status line and headers (nginx's
	// proxy_buffer_size); 0 means 8 KiB. It is also the size of each
	// connection's read buffer.
	MaxHeadBytes int
	// Dial replaces net.Dialer for tests.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Pool is the connections to the backends of one proxy configuration,
// idle ones kept per address in LIFO stacks, so that the warmest is
// reused and the coldest ages out.
type Pool struct {
	opts      Options
	headLimit int
	dial      func(ctx context.Context, network, addr string) (net.Conn, error)

	mu     sync.Mutex
	hosts  map[string][]*conn // idle connections, oldest first
	closed bool
	reaper *time.Timer // armed while any connection is idle
	armed  bool
}

// New makes a pool.
func New(o Options) *Pool {
	if o.MaxIdlePerHost <= 0 {
		o.MaxIdlePerHost = 32
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = 60 * time.Second
	}
	if o.MaxRequestsPerConn <= 0 {
		o.MaxRequestsPerConn = 1000
	}
	if o.MaxLifetime <= 0 {
		o.MaxLifetime = time.Hour
	}
	p := &Pool{opts: o, headLimit: o.MaxHeadBytes, hosts: map[string][]*conn{}}
	if p.headLimit <= 0 {
		p.headLimit = 8 << 10
	}
	p.dial = o.Dial
	if p.dial == nil {
		d := &net.Dialer{KeepAlive: 30 * time.Second}
		p.dial = d.DialContext
	}
	return p
}

// take returns the most recently used idle connection to addr that is
// still clean, or nil. retryable says the request can be sent again on a
// new connection should this one turn out closed (see idleClean).
func (p *Pool) take(addr string, now time.Time, retryable bool) *conn {
	for {
		p.mu.Lock()
		idle := p.hosts[addr]
		if len(idle) == 0 {
			p.mu.Unlock()
			return nil
		}
		c := idle[len(idle)-1]
		idle[len(idle)-1] = nil
		p.hosts[addr] = idle[:len(idle)-1]
		p.mu.Unlock()
		if now.Sub(c.idleSince) < p.opts.IdleTimeout && c.idleClean(now, retryable) {
			return c
		}
		c.close()
	}
}

// put keeps a connection whose response ended cleanly, unless a limit
// retires it. A full stack drops its oldest connection, as nginx's
// keepalive cache does.
func (p *Pool) put(c *conn) {
	now := time.Now()
	if p.opts.HTTP10 || c.requests >= p.opts.MaxRequestsPerConn || now.Sub(c.created) >= p.opts.MaxLifetime {
		c.close()
		return
	}
	c.idleSince = now
	var drop *conn
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		c.close()
		return
	}
	idle := p.hosts[c.addr]
	if len(idle) >= p.opts.MaxIdlePerHost {
		drop = idle[0]
		copy(idle, idle[1:])
		idle = idle[:len(idle)-1]
	}
	p.hosts[c.addr] = append(idle, c)
	if !p.armed {
		p.armed = true
		if p.reaper == nil {
			p.reaper = time.AfterFunc(p.opts.IdleTimeout, p.reap)
		} else {
			p.reaper.Reset(p.opts.IdleTimeout)
		}
	}
	p.mu.Unlock()
	if drop != nil {
		drop.close()
	}
}

// reap closes the connections idle for longer than IdleTimeout and runs
// again when the next one would be, while any remain.
func (p *Pool) reap() {
	now := time.Now()
	var old []*conn
	next := time.Duration(0)
	p.mu.Lock()
	for addr, idle := range p.hosts {
		n := 0
		for n < len(idle) && now.Sub(idle[n].idleSince) >= p.opts.IdleTimeout {
			n++
		}
		old = append(old, idle[:n]...)
		if n == len(idle) {
			delete(p.hosts, addr)
			continue
		}
		rest := idle[:copy(idle, idle[n:])]
		clear(idle[len(rest):])
		p.hosts[addr] = rest
		if d := p.opts.IdleTimeout - now.Sub(rest[0].idleSince); next == 0 || d < next {
			next = d
		}
	}
	p.armed = next > 0 && !p.closed
	if p.armed {
		p.reaper.Reset(next)
	}
	p.mu.Unlock()
	for _, c := range old {
		c.close()
	}
}

// Close closes the idle connections; connections in use are closed when
// their responses end instead of being pooled. Round trips still work.
func (p *Pool) Close() {
	p.mu.Lock()
	p.closed = true
	hosts := p.hosts
	p.hosts = map[string][]*conn{}
	if p.reaper != nil {
		p.reaper.Stop()
	}
	p.armed = false
	p.mu.Unlock()
	for _, idle := range hosts {
		for _, c := range idle {
			c.close()
		}
	}
}

// IdleConns counts the idle connections to addr (for tests and metrics).
func (p *Pool) IdleConns(addr string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.hosts[addr])
}
