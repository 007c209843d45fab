package h1client

import (
	"bufio"
	"context"
	"crypto/tls"
	"io"
	"net"
	"sync/atomic"
	"syscall"
	"time"

	"bunsan/internal/sockio"
)

// conn is one backend connection. Only the goroutine running its round
// trip touches it, except abort, which a cancelled request context calls.
type conn struct {
	pool *Pool
	addr string
	nc   net.Conn // what requests are written to: the TCP or TLS conn
	tcp  net.Conn // the socket under nc, for the idle check
	raw  syscall.RawConn
	io   io.ReadWriter // nc, or &sio
	sio  sockio.Conn   // the socket's direct reads and writes, when nc is TCP
	tls  bool
	br   *bufio.Reader

	created   time.Time
	idleSince time.Time
	requests  int

	// Per round trip.
	ctx      context.Context
	stop     func() bool   // unregisters abort from ctx
	notifier abortNotifier // or this does
	aborted  atomic.Bool
	abortFn  func() // c.abort, made once per conn
	nread    int64  // bytes read for the current request
	nwritten int64  // bytes of it written
	// rdl and wdl are the read and write deadlines last set on the
	// socket (lazyDeadline).
	rdl, wdl time.Time
	// rclock and wclock are the round trip's start, read once, for the
	// deadline of its first read and first write instead of reading the
	// clock again; zero after that use.
	rclock, wclock time.Time
	keys           []string
	peekFn         func(fd uintptr) bool
	peekN          int
	peekErr        error
	peekByte       [1]byte
}

func newConn(p *Pool, addr string, nc, tcp net.Conn) *conn {
	c := &conn{pool: p, addr: addr, nc: nc, tcp: tcp, created: time.Now()}
	_, c.tls = nc.(*tls.Conn)
	if sc, ok := tcp.(syscall.Conn); ok {
		if raw, err := sc.SyscallConn(); err == nil {
			c.raw = raw
			c.peekFn = c.peekFd
		}
	}
	c.io = nc
	if c.sio.Init(nc, c.raw) {
		c.io = &c.sio
	}
	c.br = bufio.NewReaderSize(c, p.headLimit)
	c.abortFn = c.abort
	return c
}

// Read applies proxy_read_timeout between two reads, as nginx does, and
// reports a cancelled request as its context's error.
func (c *conn) Read(p []byte) (int, error) {
	if c.aborted.Load() {
		return 0, c.ctxErr()
	}
	if t := c.pool.opts.ReadTimeout; t > 0 && c.pushDeadline(t, &c.rclock, &c.rdl, false) {
		return 0, c.ctxErr()
	}
	n, err := c.io.Read(p)
	c.nread += int64(n)
	if err != nil && c.aborted.Load() {
		err = c.ctxErr()
	}
	return n, err
}

// Write applies proxy_send_timeout between two writes.
func (c *conn) Write(p []byte) (int, error) {
	if c.aborted.Load() {
		return 0, c.ctxErr()
	}
	if t := c.pool.opts.SendTimeout; t > 0 && c.pushDeadline(t, &c.wclock, &c.wdl, true) {
		return 0, c.ctxErr()
	}
	n, err := c.io.Write(p)
	c.nwritten += int64(n)
	if err != nil && c.aborted.Load() {
		err = c.ctxErr()
	}
	return n, err
}

// pushDeadline applies timeout t before a read (write false) or a write:
// the socket's deadline, tracked in *dl, moves as lazyDeadline says.
// *clock, when set, is the round trip's start, used instead of reading
// the clock again and then cleared. It reports an abort that ran between
// the caller's check and the new deadline (which the abort's deadline in
// the past would otherwise lose).
func (c *conn) pushDeadline(t time.Duration, clock, dl *time.Time, write bool) (aborted bool) {
	now := *clock
	if now.IsZero() {
		now = time.Now()
	}
	*clock = time.Time{}
	d, move := lazyDeadline(*dl, now, t)
	if !move {
		return false
	}
	*dl = d
	if write {
		_ = c.nc.SetWriteDeadline(d)
	} else {
		_ = c.nc.SetReadDeadline(d)
	}
	return c.aborted.Load()
}

// lazyDeadline is nginx's lazy timer (NGX_TIMER_LAZY_DELAY): a timeout
// between two reads or writes is pushed out only when it would move by
// more than 300 ms (an eighth of shorter timeouts), so that a busy
// connection does not reset a runtime timer on every read and write. A
// timeout may then fire up to that much early, as nginx's may.
func lazyDeadline(cur, now time.Time, t time.Duration) (time.Time, bool) {
	want := now.Add(t)
	if !cur.IsZero() && want.Sub(cur) < min(300*time.Millisecond, t/8) {
		return cur, false
	}
	return want, true
}

// abort runs when the request's context ends (the client went away): the
// deadline in the past wakes a blocked read or write at once; the flag,
// set first, keeps Read and Write from pushing the deadline out again.
func (c *conn) abort() {
	c.aborted.Store(true)
	_ = c.nc.SetDeadline(time.Unix(1, 0))
}

func (c *conn) ctxErr() error {
	if c.ctx != nil && c.ctx.Err() != nil {
		return c.ctx.Err()
	}
	return context.Canceled
}

// Abort is abort, for an abortNotifier.
func (c *conn) Abort() { c.abort() }

// abortNotifier is a context that can run an Abort when it ends more
// cheaply than context.AfterFunc (two allocations and a registration with
// the parent per round trip): h1server's connection context, which has
// room for one registration at a time. NotifyAbort may refuse; StopAbort
// reports, as AfterFunc's stop does, whether Abort was kept from running.
type abortNotifier interface {
	NotifyAbort(a interface{ Abort() }) bool
	StopAbort(a interface{ Abort() }) bool
}

// watch ties the connection to ctx for one round trip.
func (c *conn) watch(ctx context.Context) {
	c.ctx, c.nread, c.nwritten = ctx, 0, 0
	if n, ok := ctx.(abortNotifier); ok && n.NotifyAbort(c) {
		c.notifier = n
		return
	}
	if ctx.Done() != nil {
		c.stop = context.AfterFunc(ctx, c.abortFn)
	}
}

// unwatch ends watch; false means abort ran or is running, and the
// connection's deadlines can no longer be trusted.
func (c *conn) unwatch() bool {
	ok := true
	if c.stop != nil {
		ok = c.stop()
		c.stop = nil
	}
	if c.notifier != nil {
		ok = c.notifier.StopAbort(c)
		c.notifier = nil
	}
	c.ctx = nil
	return ok && !c.aborted.Load()
}

func (c *conn) close() { _ = c.nc.Close() }

// finish ends a round trip whose response was read to its end (ok) or
// not, and pools or closes the connection. It reports bytes received
// past the response's end, which always close the connection.
func (c *conn) finish(ok bool) (overrun bool) {
	watched := c.unwatch()
	c.requests++
	if ok && c.br.Buffered() > 0 {
		ok, overrun = false, true
	}
	if ok && c.tls && c.tlsPending() {
		ok, overrun = false, true
	}
	if ok && watched {
		c.pool.put(c)
	} else {
		c.close()
	}
	return overrun
}

// trustIdle: see idleClean.
const trustIdle = time.Millisecond

// tlsPending says whether the TLS layer holds bytes the bufio.Reader has
// not taken: a read with a deadline in the past returns them at once and
// otherwise fails without touching the socket (a timeout is not sticky
// in crypto/tls).
func (c *conn) tlsPending() bool {
	c.rdl = time.Unix(1, 0)
	_ = c.nc.SetReadDeadline(c.rdl)
	n, err := c.nc.Read(c.peekByte[:])
	if n > 0 {
		return true
	}
	ne, isNet := err.(net.Error)
	return !isNet || !ne.Timeout() // EOF or an alert: not reusable either
}

// idleClean says, without blocking, that the backend sent nothing and did
// not close the connection while it sat idle: nginx's idle keep-alive
// read handler closes such a connection, and so does this check.
//
// The check is a system call (a MSG_PEEK read: ~4 % of the CPU of a small
// proxied request), where nginx learns the same from the events its loop
// gets anyway. It is skipped for a connection idle less than trustIdle
// when the request is retryable: so soon after its last response a
// backend has not timed the connection out (idle timeouts are seconds),
// and if it closed it all the same the request goes again on a new
// connection (RoundTrip) at no cost to the client. What the check alone
// catches then is bytes a broken backend sends after its response that
// arrive in the same millisecond the connection is reused, the window
// nginx has within one turn of its event loop. Under load that is where
// most reuses fall, since the pool hands out the connection returned
// last.
func (c *conn) idleClean(now time.Time, retryable bool) bool {
	// The last response's read deadline may have passed while idle; the
	// raw read would fail on it before looking at the socket.
	if !c.rdl.IsZero() && !c.rdl.After(now) {
		c.rdl = time.Time{}
		_ = c.tcp.SetReadDeadline(c.rdl)
	}
	if c.raw == nil || (retryable && now.Sub(c.idleSince) < trustIdle) {
		return true
	}
	c.peekN, c.peekErr = 0, nil
	if err := c.raw.Read(c.peekFn); err != nil {
		return false
	}
	return c.peekErr == syscall.EAGAIN
}
