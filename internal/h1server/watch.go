package h1server

import (
	"sync"
	"time"
)

// watch cancels the connection's context when the client goes away while
// a handler runs (the proxy then logs 499 and stops waiting for its
// backend). net/http pays a goroutine and a read syscall per request for
// this. Here nothing is spent on a handler that finishes within
// watchAfter: a per-connection timer, reused, starts a background read
// of one byte only for the slow ones, and only once the request body has
// been read (before that, the body's reads see the client leave). A byte
// that arrives meanwhile is a pipelined request's first and is kept.
// Since the context belongs to the connection and not to the request, a
// cancellation is final: the connection closes after the response.
//
// The timer is lazy, as nginx's are: a handler's end does not stop it,
// and the next handler's begin leaves it running. When it fires for a
// handler that began later, it is set again for a whole watchAfter. A
// busy connection then costs a timer update per watchAfter instead of
// two per request, and no clock reading per request.
type watch struct {
	mu    sync.Mutex
	timer *time.Timer
	armed bool // the timer is set to fire
	// seq counts handlers; seen is the one the timer was last set for.
	// A timer that fires for an earlier handler is set again for the
	// whole watchAfter: the running one is watched 20–40 ms after it
	// began, and no handler reads the clock.
	seq, seen uint64
	running   bool // a handler runs
	body      bool // the request body is read (or there is none)
	due       bool // the timer fired while the body was unread
	reading   bool // the background read runs
	// stale: the socket may hold the deadline of the wait for the head
	// (see readHead), which the background read must not inherit.
	// cleared: start cleared it behind setReadDeadline's back.
	stale, cleared bool
	done           chan struct{}
	b              [1]byte
	got            bool
}

// watchAfter is how long a handler runs before its client is watched.
const watchAfter = 20 * time.Millisecond

func (w *watch) begin(c *conn, noBody bool) {
	w.mu.Lock()
	w.running, w.body, w.due = true, noBody, false
	w.seq++
	w.stale = !c.rdl.IsZero()
	switch {
	case w.timer == nil:
		w.timer = time.AfterFunc(watchAfter, func() { w.fire(c) })
		w.armed, w.seen = true, w.seq
	case !w.armed:
		w.timer.Reset(watchAfter)
		w.armed, w.seen = true, w.seq
	}
	w.mu.Unlock()
}

func (w *watch) fire(c *conn) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.armed = false
	if !w.running || w.reading {
		return
	}
	if w.seen != w.seq {
		// Set for an earlier handler: this one may have just begun.
		w.timer.Reset(watchAfter)
		w.armed, w.seen = true, w.seq
		return
	}
	if !w.body {
		w.due = true
		return
	}
	w.start(c)
}

// bodyDone is called when the request body hit its end.
func (w *watch) bodyDone(c *conn) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.body = true
	if w.due && w.running && !w.reading {
		w.start(c)
	}
}

func (w *watch) start(c *conn) {
	if w.stale {
		// Not through setReadDeadline: rdl is the connection
		// goroutine's; end tells it.
		_ = c.nc.SetReadDeadline(time.Time{})
		w.stale, w.cleared = false, true
	}
	w.reading = true
	w.done = make(chan struct{})
	go func() {
		defer close(w.done)
		n, err := c.nc.Read(w.b[:])
		if n == 1 {
			w.got = true
			return
		}
		if err != nil && !isTimeout(err) {
			c.broken.Store(true)
			c.cx.end()
		}
	}()
}

// end stops watching when the handler returns (or hijacks): a running
// background read is cut by a past deadline, and its byte kept. The timer
// is left to run out (see watch).
func (w *watch) end(c *conn) {
	w.mu.Lock()
	w.running = false
	reading := w.reading
	w.reading = false
	if w.cleared {
		// The socket's deadline is none, or what the handler set since:
		// rdl cannot tell, so the next change must happen.
		w.cleared = false
		c.rdl = aLongTimeAgo
	}
	w.mu.Unlock()
	if !reading {
		return
	}
	_ = c.setReadDeadline(aLongTimeAgo)
	<-w.done
	_ = c.setReadDeadline(time.Time{})
	if w.got {
		w.got = false
		a := c.a
		if a.w == len(a.buf) {
			c.makeRoom()
		}
		a.buf[a.w] = w.b[0]
		a.w++
	}
}

// stop stops a lazy timer when its connection ends: left to fire, it
// would start a goroutine for nothing (with a connection per request,
// one per request).
func (w *watch) stop() {
	w.mu.Lock()
	if w.armed {
		w.timer.Stop()
		w.armed = false
	}
	w.mu.Unlock()
}

var aLongTimeAgo = time.Unix(1, 0)

func isTimeout(err error) bool {
	te, ok := err.(interface{ Timeout() bool })
	return ok && te.Timeout()
}
