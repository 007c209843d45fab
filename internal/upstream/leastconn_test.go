package upstream

import "testing"

func TestLeastConn(t *testing.T) {
	spec := Spec{Name: "u", Method: LeastConn, Servers: []ServerSpec{
		srv(t, "a:80", "weight=5"), srv(t, "b:80"), srv(t, "c:80"),
	}}
	t.Run("ties are round-robin", func(t *testing.T) {
		g, _ := build(t, spec)
		if got := sequence(t, g, 7, abc); got != "aabacaa" {
			t.Errorf("sequence %s, want aabacaa", got)
		}
	})
	t.Run("fewest connections per weight", func(t *testing.T) {
		g, _ := build(t, spec)
		// Hold connections open: a takes 5 for each 1 of b and c.
		var held []*Peer
		got := map[string]int{}
		for range 70 {
			p := pick(t, g, PickRequest{})
			held = append(held, p)
			got[p.Addr()]++
		}
		checkShares(t, got, map[string]int{"a:80": 5, "b:80": 1, "c:80": 1}, 0.02)
		for _, p := range held {
			g.Done(p, Outcome{})
		}
	})
	t.Run("busy server avoided", func(t *testing.T) {
		g, _ := build(t, Spec{Name: "u", Method: LeastConn, Servers: []ServerSpec{srv(t, "a:80"), srv(t, "b:80")}})
		p := pick(t, g, PickRequest{}) // a, held
		for range 5 {
			if got := pickDone(t, g, PickRequest{}); got == p.Addr() {
				t.Fatalf("picked busy %s", got)
			}
		}
		var ex Explanation
		pick(t, g, PickRequest{Explain: &ex})
		if ex.Method != "least_conn" || ex.Score == "" {
			t.Errorf("explanation %q", ex.String())
		}
	})
	t.Run("backups use least_conn", func(t *testing.T) {
		g, _ := build(t, Spec{Name: "u", Method: LeastConn, Servers: []ServerSpec{
			srv(t, "a:80", "down"), srv(t, "b:80", "backup"), srv(t, "c:80", "backup"),
		}})
		p := pick(t, g, PickRequest{})
		q := pick(t, g, PickRequest{})
		if p == q || !p.Backup() || !q.Backup() {
			t.Fatalf("picked %s then %s", p.Addr(), q.Addr())
		}
	})
}
