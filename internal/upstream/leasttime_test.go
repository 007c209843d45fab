package upstream

import (
	"testing"
	"time"
)

func TestLeastTime(t *testing.T) {
	for _, mode := range []string{"header", "last_byte"} {
		t.Run(mode, func(t *testing.T) {
			g, clk := build(t, Spec{Name: "u", Method: LeastTime, LeastTimeMode: mode, Servers: []ServerSpec{
				srv(t, "a:80"), srv(t, "b:80"), srv(t, "c:80"),
			}})
			lat := map[string]time.Duration{"a:80": 90 * time.Millisecond, "b:80": 30 * time.Millisecond, "c:80": 300 * time.Millisecond}
			serve := func(n int) map[string]int {
				m := map[string]int{}
				for range n {
					p := pick(t, g, PickRequest{})
					m[p.Addr()]++
					clk.Advance(time.Millisecond)
					g.Done(p, Outcome{Result: Success, HeaderTime: lat[p.Addr()], ResponseTime: lat[p.Addr()] + 10*time.Millisecond})
				}
				return m
			}
			// Unknown servers tie (eta 20 ms) and share by round-robin.
			if got := serve(3); len(got) != 3 {
				t.Fatalf("first round %v", got)
			}
			serve(30)
			// b is fastest: with no load it wins every time.
			if got := serve(10); got["b:80"] != 10 {
				t.Errorf("picks %v, want all on b", got)
			}
			// Load on b: eta = 40ms*(1+conns) passes a's 100ms at 2 conns.
			b := g.Peer("b:80")
			p1, p2 := pick(t, g, PickRequest{}), pick(t, g, PickRequest{})
			if p1 != b || p2 != b {
				t.Fatalf("picked %s, %s", p1.Addr(), p2.Addr())
			}
			var ex Explanation
			p3 := pick(t, g, PickRequest{Explain: &ex})
			if p3.Addr() != "a:80" {
				t.Errorf("with b at 2 conns picked %s (%s)", p3.Addr(), ex.String())
			}
			st := g.Servers()
			if st[1].HeaderTime < 25*time.Millisecond || st[1].HeaderTime > 35*time.Millisecond {
				t.Errorf("b header time %v", st[1].HeaderTime)
			}
		})
	}
}

func TestLeastTimeEta(t *testing.T) {
	g, clk := build(t, Spec{Name: "u", Method: LeastTime, LeastTimeMode: "header", Servers: servers(t, 2)})
	p := g.Peers()[0]
	now := clk.Now().UnixNano()
	p.st.checked.Store(now)
	for _, tc := range []struct{ rt, conns, want int64 }{
		{0, 0, 20}, {19, 0, 20}, {20, 0, 40}, {35, 1, 80}, {4999, 0, 5000}, {5001, 0, 5000}, {9000, 2, 15000},
	} {
		p.st.lt.headerTime = tc.rt
		p.st.conns.Store(tc.conns)
		if got := p.eta(now, false, false); got != tc.want {
			t.Errorf("rt=%d conns=%d: eta %d, want %d", tc.rt, tc.conns, got, tc.want)
		}
	}
	// Unchecked for 2*(fail_timeout+1) seconds: time divided by 4.
	p.st.conns.Store(0)
	p.st.lt.headerTime = 400
	if got := p.eta(now+int64(22*time.Second), false, false); got != 120 {
		t.Errorf("decayed eta %d, want 100 rounded up to 120", got)
	}
}

func TestLeastTimeInflight(t *testing.T) {
	g, clk := build(t, Spec{Name: "u", Method: LeastTime, LeastTimeMode: "last_byte", Inflight: true, Servers: servers(t, 2)})
	a, b := g.Peers()[0], g.Peers()[1]
	for _, p := range []*Peer{a, b} {
		p.st.lt.responseTime = 50
	}
	stuck := pick(t, g, PickRequest{}) // a, never finishes
	if stuck != a {
		t.Fatalf("first pick %s", stuck.Addr())
	}
	clk.Advance(2 * time.Second)
	// a's in-flight request is 2 s old: its eta rises above b's even
	// counting the connection.
	for range 3 {
		if got := pickDone(t, g, PickRequest{}); got != b.Addr() {
			t.Fatalf("picked %s with a stuck", got)
		}
	}
	g.Done(stuck, Outcome{Result: Success, ResponseTime: 2 * time.Second, HeaderTime: time.Second})
	if a.st.lt.inflightReqs != 0 {
		t.Errorf("inflight %d after done", a.st.lt.inflightReqs)
	}
}
