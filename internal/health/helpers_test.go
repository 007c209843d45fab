package health

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"bunsan/internal/config"
	"bunsan/internal/upstream"
)

// hang bounds every wait of a test: reaching it means a bug (a result
// that never comes), not a slow machine.
const hang = 10 * time.Second

// fakeClock is a Clock moved by the test. Sleepers register a waiter;
// Step waits for one and moves time to the earliest.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters map[*waiter]bool
	added   chan struct{}
}

type waiter struct {
	at time.Time
	ch chan struct{}
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Unix(1_000_000, 0), waiters: map[*waiter]bool{}, added: make(chan struct{}, 1000)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) bool {
	c.mu.Lock()
	w := &waiter{at: c.now.Add(d), ch: make(chan struct{})}
	c.waiters[w] = true
	c.mu.Unlock()
	c.added <- struct{}{}
	select {
	case <-w.ch:
		return true
	case <-ctx.Done():
		c.mu.Lock()
		delete(c.waiters, w)
		c.mu.Unlock()
		return false
	}
}

// Step waits until something sleeps, then moves time to the earliest
// wake-up and wakes every sleeper due; it returns the time moved.
func (c *fakeClock) Step(t *testing.T) time.Duration {
	t.Helper()
	deadline := time.After(hang)
	for {
		c.mu.Lock()
		var first *waiter
		for w := range c.waiters {
			if first == nil || w.at.Before(first.at) {
				first = w
			}
		}
		if first != nil {
			d := first.at.Sub(c.now)
			c.now = first.at
			for w := range c.waiters {
				if !w.at.After(c.now) {
					close(w.ch)
					delete(c.waiters, w)
				}
			}
			c.mu.Unlock()
			return d
		}
		c.mu.Unlock()
		select {
		case <-c.added:
		case <-deadline:
			t.Fatal("nothing is waiting on the clock")
		}
	}
}

// backend is an HTTP server on 127.0.0.1 whose answer the test sets.
type backend struct {
	*httptest.Server
	status  atomic.Int32
	body    atomic.Pointer[string]
	hits    atomic.Int64
	block   chan struct{} // when non-nil, requests wait for it to close
	inside  atomic.Int32
	maxSeen atomic.Int32
}

func newBackend(t *testing.T, name string) *backend {
	t.Helper()
	b := &backend{}
	b.status.Store(200)
	b.body.Store(&name)
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.hits.Add(1)
		n := b.inside.Add(1)
		defer b.inside.Add(-1)
		for {
			m := b.maxSeen.Load()
			if n <= m || b.maxSeen.CompareAndSwap(m, n) {
				break
			}
		}
		if b.block != nil {
			select {
			case <-b.block:
			case <-r.Context().Done():
			}
		}
		w.Header().Set("X-Backend", name)
		w.WriteHeader(int(b.status.Load()))
		io.WriteString(w, *b.body.Load())
	}))
	t.Cleanup(b.Close)
	return b
}

func (b *backend) addr() string { return b.Listener.Addr().String() }

// rig is a checker over one group, with its results on a channel.
type rig struct {
	clock   *fakeClock
	store   *upstream.Store
	checker *Checker
	results chan Result
}

func newRig(t *testing.T) *rig {
	t.Helper()
	r := &rig{clock: newFakeClock(), results: make(chan Result, 1000)}
	r.store = upstream.NewStore(r.clock)
	r.checker = New(Options{
		Clock:    r.clock,
		Log:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		Jitter:   func(time.Duration) time.Duration { return 0 },
		OnResult: func(res Result) { r.results <- res },
	})
	t.Cleanup(r.checker.Stop)
	return r
}

// group builds group name over addrs (slow_start applied to all).
func (r *rig) group(t *testing.T, name string, slowStart time.Duration, addrs ...string) *upstream.Group {
	t.Helper()
	spec := upstream.Spec{Name: name, Method: upstream.RoundRobin}
	for _, a := range addrs {
		spec.Servers = append(spec.Servers, upstream.ServerSpec{Addr: a, Weight: 1, MaxFails: 1, FailTimeout: 10 * time.Second, SlowStart: slowStart})
	}
	g, err := r.store.Build(spec)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// next waits for the next check result.
func (r *rig) next(t *testing.T) Result {
	t.Helper()
	select {
	case res := <-r.results:
		return res
	case <-time.After(hang):
		t.Fatal("no check result")
	}
	return Result{}
}

// httpCheck is an http health_check as the config package resolves it.
func httpCheck(mod func(c *config.HealthCheck)) *config.HealthCheck {
	c := &config.HealthCheck{Type: config.CheckHTTP, Group: "b", Interval: time.Second, Fails: 1, Passes: 1,
		URI: "/", GRPCStatus: -1, ConnectTimeout: hang, ReadTimeout: hang}
	if mod != nil {
		mod(c)
	}
	return c
}

// refused returns an address on 127.0.0.1 where nothing listens.
func refused(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := ln.Addr().String()
	ln.Close()
	return a
}

func healthyOf(g *upstream.Group) string {
	s := ""
	for _, p := range g.Peers() {
		s += fmt.Sprintf("%v ", p.Healthy())
	}
	return s
}
