package metrics

import (
	"context"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
)

// Conns counts client connections and requests as nginx's stub_status
// does. Install ConnContext and ConnState on each http.Server and call
// Begin/End around each request.
type Conns struct {
	accepted atomic.Uint64
	active   atomic.Int64
	reading  atomic.Int64
	writing  atomic.Int64
	requests atomic.Uint64

	conns sync.Map // net.Conn → *ConnStat
}

// ConnStat is one client connection's part of the counts.
type ConnStat struct {
	mu       sync.Mutex
	state    http.ConnState
	inflight int // requests in a handler
}

type connKey struct{}

// reading reports whether the connection counts as reading a request:
// bytes of a request have arrived (StateActive) and no handler runs yet.
func (cs *ConnStat) readingNow() bool { return cs.state == http.StateActive && cs.inflight == 0 }

// ConnContext is http.Server.ConnContext: it makes the connection's
// ConnStat, found again by ConnState and Begin.
func (c *Conns) ConnContext(ctx context.Context, nc net.Conn) context.Context {
	cs := &ConnStat{}
	c.conns.Store(nc, cs)
	return context.WithValue(ctx, connKey{}, cs)
}

// Track is ConnContext for a server that reports states with the
// connection's context (h1server's ConnStateContext): the ConnStat lives
// in the context only, with no map entry to store, find and delete.
func (c *Conns) Track(ctx context.Context) context.Context {
	return context.WithValue(ctx, connKey{}, &ConnStat{})
}

// ContextState is ConnStateContext for contexts made by Track.
func (c *Conns) ContextState(ctx context.Context, st http.ConnState) {
	cs, _ := ctx.Value(connKey{}).(*ConnStat)
	c.state(cs, st)
}

// ConnState is http.Server.ConnState.
func (c *Conns) ConnState(nc net.Conn, st http.ConnState) {
	v, _ := c.conns.Load(nc)
	cs, _ := v.(*ConnStat)
	c.state(cs, st)
	if st == http.StateClosed || st == http.StateHijacked {
		c.conns.Delete(nc)
	}
}

func (c *Conns) state(cs *ConnStat, st http.ConnState) {
	if cs == nil {
		// ConnContext or Track not installed: count what can be counted.
		switch st {
		case http.StateNew:
			c.accepted.Add(1)
			c.active.Add(1)
		case http.StateClosed, http.StateHijacked:
			c.active.Add(-1)
		}
		return
	}
	cs.mu.Lock()
	was := cs.readingNow()
	cs.state = st
	now := cs.readingNow()
	cs.mu.Unlock()
	c.flip(was, now)
	switch st {
	case http.StateNew:
		c.accepted.Add(1)
		c.active.Add(1)
	case http.StateClosed, http.StateHijacked:
		c.active.Add(-1)
	}
}

func (c *Conns) flip(was, now bool) {
	switch {
	case was && !now:
		c.reading.Add(-1)
	case !was && now:
		c.reading.Add(1)
	}
}

// Begin counts a request entering its handler; End must follow with
// what Begin returned (nil when the connection is unknown).
func (c *Conns) Begin(r *http.Request) *ConnStat {
	c.requests.Add(1)
	c.writing.Add(1)
	cs, _ := r.Context().Value(connKey{}).(*ConnStat)
	if cs != nil {
		cs.mu.Lock()
		was := cs.readingNow()
		cs.inflight++
		cs.mu.Unlock()
		c.flip(was, false)
	}
	return cs
}

// End counts the request's handler returning.
func (c *Conns) End(cs *ConnStat) {
	c.writing.Add(-1)
	if cs != nil {
		cs.mu.Lock()
		cs.inflight--
		now := cs.readingNow()
		cs.mu.Unlock()
		c.flip(false, now)
	}
}

// Wrap counts every request of h (Begin and End around it).
func (c *Conns) Wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cs := c.Begin(r)
		defer c.End(cs)
		h.ServeHTTP(w, r)
	})
}

// ConnFigures are the stub_status numbers.
type ConnFigures struct {
	Active, Reading, Writing, Waiting int64
	Accepted, Handled, Requests       uint64
}

// Figures reads the counts. Waiting is what is active and neither
// reading nor writing, as nginx defines it.
func (c *Conns) Figures() ConnFigures {
	f := ConnFigures{
		Accepted: c.accepted.Load(),
		Requests: c.requests.Load(),
		Active:   max(c.active.Load(), 0),
		Reading:  max(c.reading.Load(), 0),
		Writing:  max(c.writing.Load(), 0),
	}
	f.Handled = f.Accepted
	f.Waiting = max(f.Active-f.Reading-f.Writing, 0)
	return f
}
