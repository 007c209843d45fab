package upstream

import (
	"errors"
	"testing"
	"time"
)

func TestRoundRobinSequence(t *testing.T) {
	tests := []struct {
		name    string
		weights []string
		n       int
		want    string
	}{
		{"nginx docs 5,1,1", []string{"weight=5", "weight=1", "weight=1"}, 14, "aabacaaaabacaa"},
		{"equal", []string{"weight=1", "weight=1", "weight=1"}, 6, "abcabc"},
		{"4,2,1", []string{"weight=4", "weight=2", "weight=1"}, 7, "abacaba"},
		{"2,1", []string{"weight=2", "weight=1"}, 6, "abaaba"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var sv []ServerSpec
			for i, w := range tc.weights {
				sv = append(sv, srv(t, string(rune('a'+i))+":80", w))
			}
			g, _ := build(t, Spec{Name: "u", Servers: sv})
			if got := sequence(t, g, tc.n, abc); got != tc.want {
				t.Errorf("sequence %s, want %s", got, tc.want)
			}
		})
	}
}

func TestRoundRobinShares(t *testing.T) {
	g, _ := build(t, Spec{Name: "u", Servers: []ServerSpec{
		srv(t, "a:80", "weight=3"), srv(t, "b:80", "weight=2"), srv(t, "c:80", "weight=1"),
	}})
	checkShares(t, counts(t, g, 6000, nil), map[string]int{"a:80": 3, "b:80": 2, "c:80": 1}, 0.001)
}

func TestFailureAndRecovery(t *testing.T) {
	g, clk := build(t, Spec{Name: "u", Servers: []ServerSpec{
		srv(t, "a:80", "fail_timeout=10s"), srv(t, "b:80", "fail_timeout=10s"),
	}})
	a := g.Peer("a:80")
	p := pick(t, g, PickRequest{})
	if p != a {
		t.Fatalf("first pick %s, want a", p.Addr())
	}
	g.Done(p, Outcome{Result: ConnectError})
	// a failed once with max_fails=1: unavailable for fail_timeout.
	for range 5 {
		if got := pickDone(t, g, PickRequest{}); got != "b:80" {
			t.Fatalf("during fail_timeout picked %s", got)
		}
	}
	clk.Advance(10 * time.Second)
	if got := pickDone(t, g, PickRequest{}); got != "b:80" {
		t.Fatalf("at exactly fail_timeout picked %s (nginx: now-checked <= fail_timeout skips)", got)
	}
	clk.Advance(time.Millisecond)
	// One probe request goes to a; while it is in progress a stays
	// unavailable for others (checked was just set).
	var probe *Peer
	for range 3 {
		if p := pick(t, g, PickRequest{}); p == a {
			probe = p
			break
		} else {
			g.Done(p, Outcome{})
		}
	}
	if probe == nil {
		t.Fatal("a was not probed after fail_timeout")
	}
	for range 4 {
		if got := pickDone(t, g, PickRequest{}); got != "b:80" {
			t.Fatalf("a picked again while its probe runs")
		}
	}
	g.Done(probe, Outcome{Result: Success})
	if f := a.st.fails.Load(); f != 0 {
		t.Fatalf("fails %d after successful probe, want 0", f)
	}
	got := counts(t, g, 100, nil)
	if got["a:80"] < 40 {
		t.Errorf("a not back in rotation: %v", got)
	}
}

func TestMaxFailsWithinFailTimeout(t *testing.T) {
	g, clk := build(t, Spec{Name: "u", Servers: []ServerSpec{
		srv(t, "a:80", "max_fails=3", "fail_timeout=10s"), srv(t, "b:80", "max_fails=3"),
	}})
	a := g.Peer("a:80")
	fail := func() {
		t.Helper()
		g.Done(pickPeer(t, g, a), Outcome{Result: Timeout})
	}
	fail()
	fail()
	// A success after the failures does not clear them while the server
	// was not checked since (accessed >= checked).
	g.Done(pickPeer(t, g, a), Outcome{Result: Success})
	if f := a.st.fails.Load(); f != 2 {
		t.Fatalf("fails %d, want 2", f)
	}
	// After fail_timeout a pick re-checks it and a success clears.
	clk.Advance(11 * time.Second)
	g.Done(pickPeer(t, g, a), Outcome{Result: Success})
	if f := a.st.fails.Load(); f != 0 {
		t.Fatalf("fails %d after check, want 0", f)
	}
	fail()
	fail()
	fail()
	if r := a.avail(&pickCtx{g: g}, false, false); r != SkipFailed {
		t.Fatalf("after 3 failures avail=%v, want failed", r)
	}
}

// pickPeer picks until want comes up (others are done at once).
func pickPeer(t testing.TB, g *Group, want *Peer) *Peer {
	t.Helper()
	for range 100 {
		p := pick(t, g, PickRequest{})
		if p == want {
			return p
		}
		g.Done(p, Outcome{})
	}
	t.Fatalf("%s never picked", want.Addr())
	return nil
}

func TestEffectiveWeightDropsAndRecovers(t *testing.T) {
	g, _ := build(t, Spec{Name: "u", Servers: []ServerSpec{
		srv(t, "a:80", "weight=100", "max_fails=2"), srv(t, "b:80", "weight=100", "max_fails=2"),
	}})
	a := g.Peer("a:80")
	g.Done(pickPeer(t, g, a), Outcome{Result: ConnectError})
	if e := a.st.eff.Load(); e != 50 { // 100 - 100/2
		t.Fatalf("effective weight %d, want 50", e)
	}
	got := counts(t, g, 20, nil)
	if got["a:80"] >= got["b:80"] {
		t.Errorf("a should get less while recovering: %v", got)
	}
	counts(t, g, 40, nil)
	if e := a.st.eff.Load(); e != 100 {
		t.Errorf("effective weight %d after 60 picks, want 100 (+1 a pick)", e)
	}
}

func TestSingleServerNeverFails(t *testing.T) {
	g, _ := build(t, Spec{Name: "u", Servers: []ServerSpec{srv(t, "a:80")}})
	for range 5 {
		p := pick(t, g, PickRequest{})
		g.Done(p, Outcome{Result: ConnectError})
	}
	if got := pickDone(t, g, PickRequest{}); got != "a:80" {
		t.Fatal(got)
	}
	// But a retry of the same request has nothing left.
	var tr Tried
	p := pick(t, g, PickRequest{Tried: &tr})
	g.Done(p, Outcome{Result: ConnectError})
	if _, err := g.Pick(&PickRequest{Tried: &tr}); !errors.Is(err, ErrNoLiveUpstreams) {
		t.Fatalf("retry err %v", err)
	}
}

func TestBackupAndDown(t *testing.T) {
	g, clk := build(t, Spec{Name: "u", Servers: []ServerSpec{
		srv(t, "a:80"), srv(t, "b:80", "down"), srv(t, "c:80", "backup"), srv(t, "d:80", "backup"),
	}})
	if g.Tries() != 3 {
		t.Errorf("Tries %d, want 3", g.Tries())
	}
	if got := sequence(t, g, 4, abc); got != "aaaa" {
		t.Fatalf("with a up: %s", got)
	}
	g.Done(pick(t, g, PickRequest{}), Outcome{Result: ConnectError})
	if got := sequence(t, g, 4, abc); got != "cdcd" {
		t.Fatalf("a failed: %s, want backups", got)
	}
	g.Peer("c:80").SetDown(true)
	g.Peer("d:80").SetDown(true)
	var ex Explanation
	if _, err := g.Pick(&PickRequest{Explain: &ex}); !errors.Is(err, ErrNoLiveUpstreams) {
		t.Fatalf("err %v, want ErrNoLiveUpstreams", err)
	}
	if ex.Winner != "" || len(ex.Skipped) != 4 {
		t.Errorf("explanation %s", ex.String())
	}
	clk.Advance(11 * time.Second)
	if got := sequence(t, g, 2, abc); got != "aa" {
		t.Fatalf("after fail_timeout: %s", got)
	}
}

func TestRetriesWalkEveryServer(t *testing.T) {
	for _, m := range []Spec{
		{Method: RoundRobin}, {Method: LeastConn}, {Method: IPHash}, {Method: Hash},
		{Method: Hash, Consistent: true}, {Method: Random}, {Method: Random, Two: true},
		{Method: Random, Two: true, TwoMethod: LeastTime}, {Method: LeastTime, LeastTimeMode: "header"},
	} {
		t.Run(string(m.Method)+map[bool]string{true: "_consistent"}[m.Consistent]+map[bool]string{true: "_two"}[m.Two], func(t *testing.T) {
			for _, n := range []int{5, 70} {
				m.Name, m.Servers = "u", servers(t, n)
				g, _ := build(t, m)
				var tr Tried
				seen := map[string]bool{}
				for range n {
					p, err := g.Pick(&PickRequest{Tried: &tr, HashKey: []byte("k"), ClientAddr: mustAddr("192.0.2.7")})
					if err != nil {
						t.Fatalf("n=%d after %d: %v", n, len(seen), err)
					}
					if seen[p.Addr()] {
						t.Fatalf("n=%d: %s picked twice", n, p.Addr())
					}
					seen[p.Addr()] = true
					g.Done(p, Outcome{Result: ConnectError})
				}
				if _, err := g.Pick(&PickRequest{Tried: &tr, HashKey: []byte("k")}); !errors.Is(err, ErrNoLiveUpstreams) {
					t.Fatalf("n=%d: after all tried err %v", n, err)
				}
				if tr.Len() != n {
					t.Errorf("Tried.Len %d", tr.Len())
				}
			}
		})
	}
}
