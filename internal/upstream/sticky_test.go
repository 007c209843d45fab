package upstream

import (
	"testing"
	"time"
)

func TestStickyRouteAndCookie(t *testing.T) {
	for _, mode := range []string{"route", "cookie"} {
		t.Run(mode, func(t *testing.T) {
			g, _ := build(t, Spec{Name: "u", Sticky: &StickySpec{Mode: mode}, Servers: []ServerSpec{
				srv(t, "a:80", "route=r1"), srv(t, "b:80"), srv(t, "c:80", "backup"),
			}})
			b := g.Peer("b:80")
			if len(b.StickyID()) != 32 || g.Peer("a:80").StickyID() != "r1" {
				t.Fatalf("sticky IDs %q %q", g.Peer("a:80").StickyID(), b.StickyID())
			}
			for range 5 {
				if got := pickDone(t, g, PickRequest{Route: b.StickyID()}); got != "b:80" {
					t.Fatalf("bound to b, got %s", got)
				}
			}
			var ex Explanation
			pick(t, g, PickRequest{Route: "r1", Explain: &ex})
			if ex.Winner != "a:80" || ex.Method != "sticky "+mode+" (round_robin)" {
				t.Errorf("explanation %s", ex.String())
			}
			// Unknown route: the method decides.
			if got := counts(t, g, 10, func(int) PickRequest { return PickRequest{Route: "nope"} }); got["a:80"] != 5 {
				t.Errorf("unknown route: %v", got)
			}
			// Bound server failed: the method decides; a retry does not
			// return to the tried server.
			var tr Tried
			p := pick(t, g, PickRequest{Route: "r1", Tried: &tr})
			g.Done(p, Outcome{Result: ConnectError})
			if q := pick(t, g, PickRequest{Route: "r1", Tried: &tr}); q.Addr() != "b:80" {
				t.Errorf("retry went to %s", q.Addr())
			}
		})
	}
}

func TestStickyLearn(t *testing.T) {
	clk := newFakeClock()
	store := NewStore(clk)
	spec := Spec{Name: "u", Sticky: &StickySpec{Mode: "learn", Timeout: time.Hour, ZoneSize: 3 * 128}, Servers: servers(t, 3)}
	g, err := store.Build(spec)
	if err != nil {
		t.Fatal(err)
	}
	// New session: the method picks, the response creates the session.
	p := pick(t, g, PickRequest{Route: "sess1"})
	g.Done(p, Outcome{})
	g.Learn(p, "sess1", true)
	for range 5 {
		if got := pickDone(t, g, PickRequest{Route: "sess1"}); got != p.Addr() {
			t.Fatalf("session went to %s, learned %s", got, p.Addr())
		}
	}
	// Refreshing an unknown session creates nothing.
	g.Learn(p, "other", false)
	if n := g.gs.learn.len(); n != 1 {
		t.Fatalf("table has %d sessions", n)
	}
	// Survives a reload.
	g2, _ := store.Build(spec)
	if got := pickDone(t, g2, PickRequest{Route: "sess1"}); got != p.Addr() {
		t.Errorf("after reload session went to %s", got)
	}
	// Bounded: three sessions fit; a fourth evicts the least recently used.
	for _, s := range []string{"s2", "s3", "s4"} {
		g2.Learn(g2.Peers()[2], s, true)
	}
	if _, ok := g2.gs.learn.lookup("sess1", clk.Now().UnixNano()); ok {
		t.Error("oldest session not evicted")
	}
	if n := g2.gs.learn.len(); n != 3 {
		t.Errorf("table has %d sessions, bound 3", n)
	}
	// Expires after the timeout without use.
	clk.Advance(time.Hour + time.Second)
	if _, ok := g2.gs.learn.lookup("s4", clk.Now().UnixNano()); ok {
		t.Error("session did not expire")
	}
}
