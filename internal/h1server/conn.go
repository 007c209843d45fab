package h1server

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"bunsan/internal/httpwire"
	"bunsan/internal/sockio"
)

// conn is one client connection. Between requests it keeps only what
// this struct holds (no buffer, no goroutine when parked); the buffers
// live in an activeState taken from a pool while a request is read and
// answered.
type conn struct {
	srv    *Server
	nc     net.Conn
	io     io.ReadWriter   // nc, or &sio
	sio    sockio.Conn     // the socket's direct reads and writes, when nc is TCP
	raw    syscall.RawConn // nil when the connection has no file descriptor
	lim    Limits
	remote string
	// ctx is the connection's context (ConnContext's values), cancelled
	// when the connection ends or the client is seen leaving while a
	// handler runs; every request of the connection carries it. It is
	// &cx, a part of conn so that it costs no allocation of its own.
	ctx  context.Context
	cx   connCtx
	base *http.Request // holds ctx; each request starts as a copy

	state    atomic.Int32 // connIdle, connActive, connDone
	requests int
	fresh    bool // no request read yet
	// rdl is the read deadline on the socket (zero: none), set only
	// through setReadDeadline, from the connection's goroutine (or its
	// handler's). The watch may clear the socket's behind it; rdl is
	// then aLongTimeAgo, a value that makes the next change happen.
	rdl    time.Time
	broken atomic.Bool

	a     *activeState // nil while idle
	watch watch

	// parking (park_linux.go): token in the poller's set, and the
	// connection's place in its keepalive_timeout list.
	token      uint64
	idleUntil  time.Time
	prev, next *conn
	list       *idleList
}

const (
	connIdle int32 = iota
	connActive
	connDone
)

// activeState is what a connection needs only while it is busy.
type activeState struct {
	buf    []byte // buf[r:w] is read and not yet consumed
	r, w   int
	bw     *bufio.Writer
	resp   response
	header http.Header
	pend   []byte // a body not yet framed, to send Content-Length
	// req and st are the request being served, reused for the next one:
	// no handler keeps r after returning (hijackers included: a hijacked
	// state is never pooled again).
	req        http.Request
	st         reqStore
	hijackedBW bool // bw was handed to a hijacker: never pooled again
}

const (
	bufSize  = 4096
	pendSize = 2048 // like net/http's bufferBeforeChunkingSize
)

var activePool = sync.Pool{New: func() any {
	return &activeState{buf: make([]byte, bufSize), bw: bufio.NewWriterSize(nil, bufSize),
		header: make(http.Header), pend: make([]byte, 0, pendSize)}
}}

func (c *conn) acquire() {
	if c.a != nil {
		return
	}
	a := activePool.Get().(*activeState)
	a.bw.Reset(c.io)
	c.a = a
}

// release returns the buffers; unread bytes must have been consumed.
func (c *conn) release() {
	a := c.a
	if a == nil {
		return
	}
	c.a = nil
	if a.hijackedBW || cap(a.buf) != bufSize {
		return // a grown head buffer or a handed-out writer is not reused
	}
	a.r, a.w = 0, 0
	a.bw.Reset(nil)
	a.resp = response{}
	clear(a.header)
	a.pend = a.pend[:0]
	a.req = http.Request{}
	a.st.reset()
	activePool.Put(a)
}

// shed drops what a connection about to park can rebuild when it wakes:
// the request template and the watch's timer, a third of what an idle
// connection would otherwise hold.
func (c *conn) shed() {
	c.base = nil
	w := &c.watch
	w.mu.Lock()
	if w.timer != nil {
		w.timer.Stop()
		w.timer, w.armed = nil, false
	}
	w.mu.Unlock()
}

func (c *conn) setState(st http.ConnState) {
	if f := c.srv.ConnStateContext; f != nil {
		f(c.ctx, st)
		return
	}
	if f := c.srv.ConnState; f != nil {
		f(c.nc, st)
	}
}

// serve runs requests until the connection parks, closes or is hijacked.
// It starts at accept and again each time a parked connection wakes.
func (c *conn) serve() {
	defer func() {
		if v := recover(); v != nil {
			if v != http.ErrAbortHandler {
				buf := make([]byte, 16<<10)
				buf = buf[:runtime.Stack(buf, false)]
				c.srv.logf("panic serving %s: %v\n%s", c.remote, v, buf)
			}
			if c.a != nil && c.a.resp.hijacked {
				return // the hijacker's socket, already reported as such
			}
			c.close()
		}
	}()
	c.acquire()
	for {
		r, code, err := c.readRequest()
		if err != nil {
			c.close()
			return
		}
		if code != 0 {
			c.refuse(code)
			c.closeGraceful()
			return
		}
		keep := c.handle(r)
		if c.a.resp.hijacked {
			c.release()
			return // the hijacker owns the socket now
		}
		c.requests++
		if !keep || c.srv.shuttingDown() {
			if c.quietEnd(r) {
				c.closeNow()
			} else {
				c.closeGraceful()
			}
			return
		}
		if c.a.r < c.a.w {
			continue // pipelined: the next head is already here
		}
		c.toIdle()
		if got, err := c.linger(); err != nil {
			c.close()
			return
		} else if got {
			continue
		}
		c.release()
		c.shed()
		if c.srv.park(c) {
			return // a wake-up starts serve again
		}
		c.acquire()
	}
}

// setReadDeadline sets the socket's read deadline and remembers it. Each
// change costs a runtime timer update; clearing a deadline that is not
// set is then free.
func (c *conn) setReadDeadline(t time.Time) error {
	if t.IsZero() && c.rdl.IsZero() {
		return nil
	}
	c.rdl = t
	return c.nc.SetReadDeadline(t)
}

// toIdle marks the connection idle: from now on shut may close it.
func (c *conn) toIdle() {
	c.setState(http.StateIdle)
	c.state.Store(connIdle)
}

// readRequest reads and parses one head. A non-zero code is a refusal.
func (c *conn) readRequest() (*http.Request, int, error) {
	head, code, err := c.readHead()
	if err != nil || code != 0 {
		return nil, code, err
	}
	hi, code := CheckHead(head, c.lim)
	if code != 0 {
		return nil, code, nil
	}
	r := &c.a.req
	if c.base == nil {
		c.base = (&http.Request{}).WithContext(c.ctx)
	}
	*r = *c.base
	if code := parseRequest(r, string(head), hi, &c.a.st); code != 0 {
		return nil, code, nil
	}
	r.RemoteAddr = c.remote
	r.Body = http.NoBody
	if hi.Chunked || hi.Length > 0 {
		// The body's reads wait as long as the client takes (or the
		// handler's client_body_timeout): no deadline from the wait
		// for the head.
		_ = c.setReadDeadline(time.Time{})
		b := &body{c: c, chunked: hi.Chunked, left: hi.Length}
		if hi.Chunked {
			b.left = 0
		}
		if !hi.HTTP10 && httpwire.HasToken(r.Header["Expect"], "100-continue") {
			b.cont.Store(true)
		}
		r.Body = b
	}
	return r, 0, nil
}

// refuse answers a request that will not be read: through the handler
// with the Refuse hook's synthetic request (so that it is logged and
// answered as configured), or with a bare status line.
func (c *conn) refuse(code int) {
	if c.srv.Refuse != nil {
		r := c.srv.Refuse(code).WithContext(c.ctx)
		r.RemoteAddr = c.remote
		r.Close = true
		c.handle(r)
		return
	}
	fmt.Fprintf(c.a.bw, "HTTP/1.1 %d %s\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", code, http.StatusText(code))
	_ = c.a.bw.Flush()
}

// handle runs the handler on r and completes the response; it reports
// whether the connection may serve another request.
func (c *conn) handle(r *http.Request) bool {
	w := &c.a.resp
	w.reset(c, r)
	c.watch.begin(c, r.Body == http.NoBody)
	c.srv.Handler.ServeHTTP(w, r)
	c.watch.end(c)
	if w.hijacked {
		return false
	}
	keep := w.finish()
	if b, ok := r.Body.(*body); ok {
		keep = b.finish(keep && !w.closeAfter)
	}
	return keep && !w.closeAfter && !c.broken.Load()
}
