package upstream

import (
	"testing"
	"time"
)

func TestRandomWeights(t *testing.T) {
	g, _ := build(t, Spec{Name: "u", Method: Random, Servers: []ServerSpec{
		srv(t, "a:80", "weight=3"), srv(t, "b:80", "weight=2"), srv(t, "c:80"), srv(t, "d:80", "down"),
	}})
	checkShares(t, counts(t, g, 30000, nil), map[string]int{"a:80": 3, "b:80": 2, "c:80": 1}, 0.02)
}

func TestRandomTwoLeastConn(t *testing.T) {
	g, _ := build(t, Spec{Name: "u", Method: Random, Two: true, TwoMethod: LeastConn, Servers: servers(t, 3)})
	busy := g.Peers()[0]
	var held []*Peer
	for range 10 {
		busy.st.conns.Add(1) // as if 10 requests were in progress
	}
	got := map[string]int{}
	for range 3000 {
		p := pick(t, g, PickRequest{})
		got[p.Addr()]++
		held = append(held, p)
		g.Done(p, Outcome{})
	}
	// The busy server can only win when it is drawn twice, which "two"
	// forbids: it never wins while the others are idle.
	if got[busy.Addr()] != 0 {
		t.Errorf("busy server won %d times: %v", got[busy.Addr()], got)
	}
	checkShares(t, got, map[string]int{g.Peers()[1].Addr(): 1, g.Peers()[2].Addr(): 1}, 0.05)
}

func TestRandomTwoPeakEWMA(t *testing.T) {
	g, clk := build(t, Spec{Name: "u", Method: Random, Two: true, TwoMethod: LeastTime, LeastTimeMode: "header", Servers: []ServerSpec{
		srv(t, "fast:80"), srv(t, "slow:80"),
	}})
	lat := map[string]time.Duration{"fast:80": 5 * time.Millisecond, "slow:80": 200 * time.Millisecond}
	run := func(n int) map[string]int {
		m := map[string]int{}
		for range n {
			p := pick(t, g, PickRequest{})
			m[p.Addr()]++
			clk.Advance(10 * time.Millisecond)
			g.Done(p, Outcome{Result: Success, HeaderTime: lat[p.Addr()]})
		}
		return m
	}
	run(20)
	got := run(200)
	if got["slow:80"] > 0 {
		t.Errorf("slow server still chosen with two servers and no load: %v", got)
	}
	// Left alone, the slow server's penalty decays below the fast one's
	// current cost after a while and it is probed again.
	clk.Advance(time.Minute)
	if st := g.Servers(); st[1].PeakEWMA >= st[0].PeakEWMA && st[1].PeakEWMA > time.Millisecond {
		t.Logf("statuses %+v", st)
	}
	g.Peer("fast:80").st.mu.Lock()
	g.Peer("fast:80").st.pe.stamp = clk.Now().UnixNano() // fast was just used
	g.Peer("fast:80").st.mu.Unlock()
	if got := run(1); got["slow:80"] != 1 {
		t.Errorf("slow server not probed after its penalty decayed: %v", got)
	}
}
