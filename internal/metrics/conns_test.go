package metrics

import (
	"context"
	"net"
	"net/http"
	"testing"
)

// The map-keyed hooks (net/http servers) and the context-keyed ones
// (h1server) must count the same connection life the same way.
func TestConnsHooksAgree(t *testing.T) {
	type step struct {
		st    http.ConnState // 0 with begin/end false: nothing
		begin bool
		end   bool
		want  ConnFigures
	}
	steps := []step{
		{st: http.StateNew, want: ConnFigures{Active: 1, Waiting: 1, Accepted: 1, Handled: 1}},
		{st: http.StateActive, want: ConnFigures{Active: 1, Reading: 1, Accepted: 1, Handled: 1}},
		{begin: true, want: ConnFigures{Active: 1, Writing: 1, Accepted: 1, Handled: 1, Requests: 1}},
		{end: true, want: ConnFigures{Active: 1, Reading: 1, Accepted: 1, Handled: 1, Requests: 1}},
		{st: http.StateIdle, want: ConnFigures{Active: 1, Waiting: 1, Accepted: 1, Handled: 1, Requests: 1}},
		{st: http.StateActive, want: ConnFigures{Active: 1, Reading: 1, Accepted: 1, Handled: 1, Requests: 1}},
		{st: http.StateClosed, want: ConnFigures{Accepted: 1, Handled: 1, Requests: 1}},
	}
	hooks := []struct {
		name  string
		ctx   func(c *Conns, nc net.Conn) context.Context
		state func(c *Conns, ctx context.Context, nc net.Conn, st http.ConnState)
	}{
		{"net.Conn map", func(c *Conns, nc net.Conn) context.Context { return c.ConnContext(context.Background(), nc) },
			func(c *Conns, _ context.Context, nc net.Conn, st http.ConnState) { c.ConnState(nc, st) }},
		{"context", func(c *Conns, _ net.Conn) context.Context { return c.Track(context.Background()) },
			func(c *Conns, ctx context.Context, _ net.Conn, st http.ConnState) { c.ContextState(ctx, st) }},
	}
	for _, h := range hooks {
		t.Run(h.name, func(t *testing.T) {
			c := &Conns{}
			nc, other := net.Pipe()
			defer nc.Close()
			defer other.Close()
			ctx := h.ctx(c, nc)
			r := (&http.Request{}).WithContext(ctx)
			var cs *ConnStat
			for i, s := range steps {
				switch {
				case s.begin:
					cs = c.Begin(r)
				case s.end:
					c.End(cs)
				default:
					h.state(c, ctx, nc, s.st)
				}
				got := c.Figures()
				if got != s.want {
					t.Fatalf("step %d: %+v; want %+v", i, got, s.want)
				}
			}
			if _, ok := c.conns.Load(nc); ok {
				t.Fatal("a closed connection is still in the map")
			}
		})
	}
}
