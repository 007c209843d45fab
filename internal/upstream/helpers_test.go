package upstream

import (
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is a Clock tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// srv is a ServerSpec with nginx's defaults; opts are "weight=N",
// "max_fails=N", "fail_timeout=D", "max_conns=N", "slow_start=D",
// "route=R", "backup", "down", "drain".
func srv(t testing.TB, addr string, opts ...string) ServerSpec {
	t.Helper()
	s := ServerSpec{Addr: addr, Weight: 1, MaxFails: DefaultMaxFails, FailTimeout: DefaultFailTimeout}
	for _, o := range opts {
		k, v, _ := strings.Cut(o, "=")
		var err error
		switch k {
		case "weight":
			_, err = fmt.Sscan(v, &s.Weight)
		case "max_fails":
			_, err = fmt.Sscan(v, &s.MaxFails)
		case "max_conns":
			_, err = fmt.Sscan(v, &s.MaxConns)
		case "fail_timeout":
			s.FailTimeout, err = time.ParseDuration(v)
		case "slow_start":
			s.SlowStart, err = time.ParseDuration(v)
		case "route":
			s.Route = v
		case "backup":
			s.Backup = true
		case "down":
			s.Down = true
		case "drain":
			s.Drain = true
		default:
			t.Fatalf("unknown server option %q", o)
		}
		if err != nil {
			t.Fatalf("server option %q: %v", o, err)
		}
	}
	return s
}

// build builds spec in a fresh store with a fake clock.
func build(t testing.TB, spec Spec) (*Group, *fakeClock) {
	t.Helper()
	clk := newFakeClock()
	g, err := NewStore(clk).Build(spec)
	if err != nil {
		t.Fatal(err)
	}
	return g, clk
}

// servers makes n plain servers named s0..s(n-1) with equal weight.
func servers(t testing.TB, n int, opts ...string) []ServerSpec {
	t.Helper()
	out := make([]ServerSpec, n)
	for i := range out {
		out[i] = srv(t, fmt.Sprintf("10.0.%d.%d:80", i/250, i%250+1), opts...)
	}
	return out
}

// pick picks with a fresh Tried and fails the test on error.
func pick(t testing.TB, g *Group, r PickRequest) *Peer {
	t.Helper()
	if r.Tried == nil {
		r.Tried = new(Tried)
	}
	p, err := g.Pick(&r)
	if err != nil {
		t.Fatalf("pick: %v", err)
	}
	return p
}

// pickDone picks and reports success at once, returning the address.
func pickDone(t testing.TB, g *Group, r PickRequest) string {
	t.Helper()
	p := pick(t, g, r)
	g.Done(p, Outcome{Result: Success})
	return p.Addr()
}

// sequence returns n pick-and-done addresses mapped through names.
func sequence(t testing.TB, g *Group, n int, names map[string]string) string {
	t.Helper()
	var b strings.Builder
	for range n {
		a := pickDone(t, g, PickRequest{})
		if nm, ok := names[a]; ok {
			b.WriteString(nm)
		} else {
			b.WriteString(a)
		}
	}
	return b.String()
}

// counts picks n times (each done at once) and counts addresses.
func counts(t testing.TB, g *Group, n int, req func(i int) PickRequest) map[string]int {
	t.Helper()
	m := map[string]int{}
	for i := range n {
		r := PickRequest{}
		if req != nil {
			r = req(i)
		}
		m[pickDone(t, g, r)]++
	}
	return m
}

// checkShares checks that counts follow weights within tol (fraction).
func checkShares(t testing.TB, got map[string]int, weights map[string]int, tol float64) {
	t.Helper()
	total, wsum := 0, 0
	for _, c := range got {
		total += c
	}
	for _, w := range weights {
		wsum += w
	}
	for a, w := range weights {
		want := float64(w) / float64(wsum)
		share := float64(got[a]) / float64(total)
		if share < want-tol || share > want+tol {
			t.Errorf("%s: share %.3f, want %.3f±%.3f (counts %v)", a, share, want, tol, got)
		}
	}
}

var abc = map[string]string{"a:80": "a", "b:80": "b", "c:80": "c", "d:80": "d"}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }
