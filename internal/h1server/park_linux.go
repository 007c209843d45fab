package h1server

import (
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"
)

// parker keeps idle keep-alive connections in an epoll set instead of a
// goroutine each. The epoll descriptor itself is non-blocking and handed
// to Go's netpoller (os.NewFile), so one goroutine sleeps in the runtime
// until some parked connection is readable, then starts a goroutine for
// it. Registrations are one-shot and removed on wake, before any close.
// keepalive_timeout is one timer over lists ordered by deadline, not a
// timer per connection.
type parker struct {
	srv    *Server
	epfd   *os.File
	fd     int // epfd's descriptor: os.File.Fd would make it blocking
	rc     syscall.RawConn
	mu     sync.Mutex
	closed bool
	seq    uint64
	parked map[uint64]*conn
	lists  []*idleList
	sweep  *time.Timer
	next   time.Time // when the sweep timer fires, zero if stopped
}

func newParker(s *Server) (*parker, error) {
	fd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("epoll_create1: %w", err)
	}
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("epoll fd non-blocking: %w", err)
	}
	f := os.NewFile(uintptr(fd), "h1server-epoll")
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("epoll fd: %w", err)
	}
	p := &parker{srv: s, epfd: f, fd: fd, rc: rc, parked: map[uint64]*conn{}}
	go p.loop()
	return p, nil
}

// park registers an idle connection; false means it cannot be parked
// (no descriptor, shutting down) and its goroutine must keep it.
func (s *Server) park(c *conn) bool {
	if c.raw == nil || c.lim.IdleTimeout <= 0 {
		return false
	}
	s.mu.Lock()
	if s.parker == nil && !s.inShutdown.Load() {
		p, err := newParker(s)
		if err != nil {
			s.mu.Unlock()
			s.logf("no idle parking: %v", err)
			return false
		}
		s.parker = p
	}
	p := s.parker
	s.mu.Unlock()
	if p == nil {
		return false
	}
	return p.add(c)
}

func (p *parker) add(c *conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.seq++
	c.token = p.seq
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP | epollOneShot,
		Fd: int32(uint32(c.token)), Pad: int32(uint32(c.token >> 32))}
	var err error
	cerr := c.raw.Control(func(fd uintptr) {
		err = syscall.EpollCtl(p.epfdInt(), syscall.EPOLL_CTL_ADD, int(fd), &ev)
	})
	if cerr != nil || err != nil {
		return false
	}
	p.parked[c.token] = c
	c.idleUntil = time.Now().Add(c.lim.IdleTimeout)
	p.listFor(c.lim.IdleTimeout).push(c)
	p.schedule(c.idleUntil)
	return true
}

const epollOneShot = 1 << 30 // EPOLLONESHOT, as a uint32

func (p *parker) epfdInt() int { return p.fd }

func (p *parker) listFor(d time.Duration) *idleList {
	for _, l := range p.lists {
		if l.timeout == d {
			return l
		}
	}
	l := &idleList{timeout: d}
	p.lists = append(p.lists, l)
	return l
}

// take removes a parked connection from the set; the caller owns it.
func (p *parker) take(c *conn) {
	delete(p.parked, c.token)
	c.list.remove(c)
	_ = c.raw.Control(func(fd uintptr) {
		_ = syscall.EpollCtl(p.epfdInt(), syscall.EPOLL_CTL_DEL, int(fd), nil)
	})
}

func (p *parker) loop() {
	events := make([]syscall.EpollEvent, 128)
	for {
		var n int
		err := p.rc.Read(func(fd uintptr) bool {
			var errno error
			n, errno = syscall.EpollWait(int(fd), events, 0)
			return n > 0 || errno != nil && errno != syscall.EINTR
		})
		if err != nil {
			return // closed by stop
		}
		for _, ev := range events[:max(n, 0)] {
			token := uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32
			p.mu.Lock()
			c := p.parked[token]
			if c != nil {
				p.take(c)
			}
			p.mu.Unlock()
			if c != nil {
				c.srv.run(c)
			}
		}
	}
}

// schedule makes sure the sweep runs by t.
func (p *parker) schedule(t time.Time) {
	if !p.next.IsZero() && !p.next.After(t) {
		return
	}
	p.next = t
	d := time.Until(t) + sweepSlack
	if p.sweep == nil {
		p.sweep = time.AfterFunc(d, p.sweepNow)
	} else {
		p.sweep.Reset(d)
	}
}

// sweepNow closes the connections whose keepalive_timeout passed.
func (p *parker) sweepNow() {
	now := time.Now()
	var expired []*conn
	p.mu.Lock()
	p.next = time.Time{}
	var next time.Time
	for _, l := range p.lists {
		for l.head != nil && !l.head.idleUntil.After(now) {
			c := l.head
			p.take(c)
			expired = append(expired, c)
		}
		if l.head != nil && (next.IsZero() || l.head.idleUntil.Before(next)) {
			next = l.head.idleUntil
		}
	}
	if !next.IsZero() && !p.closed {
		p.schedule(next)
	}
	p.mu.Unlock()
	for _, c := range expired {
		c.shut(true)
	}
}

// stop closes every parked connection and the epoll set; later idle
// connections keep their goroutine (and Shutdown closes them).
func (s *Server) stopParker() {
	s.mu.Lock()
	p := s.parker
	s.mu.Unlock()
	if p == nil {
		return
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	var all []*conn
	for _, c := range p.parked {
		p.take(c)
		all = append(all, c)
	}
	if p.sweep != nil {
		p.sweep.Stop()
	}
	p.mu.Unlock()
	for _, c := range all {
		c.shut(true)
	}
	p.epfd.Close()
}

// parkedCount is for tests and measurements.
func (s *Server) parkedCount() int {
	s.mu.Lock()
	p := s.parker
	s.mu.Unlock()
	if p == nil {
		return 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.parked)
}
