package upstream

import (
	"errors"
	"sync"
	"testing"
	"time"
)

func TestMaxConns(t *testing.T) {
	g, _ := build(t, Spec{Name: "u", Servers: []ServerSpec{
		srv(t, "a:80", "max_conns=2"), srv(t, "b:80", "max_conns=1"), srv(t, "c:80", "backup", "max_conns=1"),
	}})
	var held []*Peer
	for range 4 {
		held = append(held, pick(t, g, PickRequest{}))
	}
	got := map[string]int{}
	for _, p := range held {
		got[p.Addr()]++
	}
	if got["a:80"] != 2 || got["b:80"] != 1 || got["c:80"] != 1 {
		t.Fatalf("held %v", got)
	}
	var ex Explanation
	if _, err := g.Pick(&PickRequest{Explain: &ex}); !errors.Is(err, ErrNoLiveUpstreams) {
		t.Fatalf("err %v", err)
	}
	for _, s := range ex.Skipped {
		if s.Reason != SkipMaxConns {
			t.Errorf("skip %v", s)
		}
	}
	g.Done(held[0], Outcome{})
	if p := pick(t, g, PickRequest{}); p != held[0] {
		t.Errorf("freed slot not reused: %s", p.Addr())
	}
}

func TestMaxConnsConcurrent(t *testing.T) {
	g, _ := build(t, Spec{Name: "u", Method: Hash, Servers: []ServerSpec{
		srv(t, "a:80", "max_conns=3"), srv(t, "b:80", "max_conns=3"),
	}})
	var wg sync.WaitGroup
	var mu sync.Mutex
	peak := map[*Peer]int64{}
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				p, err := g.Pick(&PickRequest{Tried: new(Tried), HashKey: []byte{byte(w), byte(i)}})
				if err != nil {
					continue
				}
				n := p.Active()
				mu.Lock()
				peak[p] = max(peak[p], n)
				mu.Unlock()
				g.Done(p, Outcome{})
			}
		}()
	}
	wg.Wait()
	for p, n := range peak {
		if n > 3 {
			t.Errorf("%s reached %d active with max_conns=3", p.Addr(), n)
		}
	}
}

func TestSlowStart(t *testing.T) {
	g, clk := build(t, Spec{Name: "u", Servers: []ServerSpec{
		srv(t, "a:80", "slow_start=30s", "fail_timeout=10s"), srv(t, "b:80"),
	}})
	a := g.Peer("a:80")
	g.Done(pickPeer(t, g, a), Outcome{Result: ConnectError})
	clk.Advance(11 * time.Second)
	g.Done(pickPeer(t, g, a), Outcome{Result: Success}) // recovers: ramp starts
	if st := g.Servers()[0].State; st != StateSlowStart {
		t.Fatalf("state %s, want slow_start", st)
	}
	share := func() float64 {
		c := counts(t, g, 1000, nil)
		return float64(c["a:80"]) / 1000
	}
	var shares []float64
	for range 4 {
		clk.Advance(6 * time.Second)
		shares = append(shares, share())
	}
	clk.Advance(10 * time.Second)
	full := share()
	t.Logf("a's share at 6s, 12s, 18s, 24s of a 30s slow start: %.3f, then %.3f", shares, full)
	for i := 1; i < len(shares); i++ {
		if shares[i] <= shares[i-1] {
			t.Errorf("share did not grow: %v", shares)
		}
	}
	if shares[0] > 0.25 || full < 0.49 || full > 0.51 {
		t.Errorf("ramp %v, full %.3f", shares, full)
	}
	if st := g.Servers()[0].State; st != StateUp {
		t.Errorf("state %s after slow start", st)
	}
}

func TestDrain(t *testing.T) {
	g, _ := build(t, Spec{Name: "u", Sticky: &StickySpec{Mode: "route"}, Servers: []ServerSpec{
		srv(t, "a:80", "route=ra"), srv(t, "b:80", "route=rb", "drain"), srv(t, "c:80", "route=rc"),
	}})
	g.Peer("c:80").SetDrain(true)
	if got := sequence(t, g, 3, abc); got != "aaa" {
		t.Errorf("drained servers got new requests: %s", got)
	}
	for _, r := range []string{"rb", "rc"} {
		if got := pickDone(t, g, PickRequest{Route: r}); got != map[string]string{"rb": "b:80", "rc": "c:80"}[r] {
			t.Errorf("sticky %s to %s", r, got)
		}
	}
	if st := g.Servers(); st[1].State != StateDraining || st[2].State != StateDraining {
		t.Errorf("states %s %s", st[1].State, st[2].State)
	}
	g.Peer("c:80").SetDrain(false)
	if got := sequence(t, g, 2, abc); got != "ac" && got != "ca" {
		t.Errorf("undrained: %s", got)
	}
}

func TestStateSurvivesBuild(t *testing.T) {
	clk := newFakeClock()
	store := NewStore(clk)
	spec := Spec{Name: "u", Method: LeastTime, LeastTimeMode: "header", Servers: []ServerSpec{
		srv(t, "a:80"), srv(t, "b:80"), srv(t, "c:80"),
	}}
	g1, err := store.Build(spec)
	if err != nil {
		t.Fatal(err)
	}
	a1, b1 := g1.Peer("a:80"), g1.Peer("b:80")
	g1.Done(pickPeer(t, g1, a1), Outcome{Result: ConnectError}) // a failed
	held := pickPeer(t, g1, b1)                                 // b busy
	g1.Peer("c:80").SetDrain(true)
	g1.Done(pickPeer(t, g1, b1), Outcome{Result: Success, HeaderTime: 40 * time.Millisecond})

	// Reload: c removed, d added, b's weight changed.
	spec2 := spec
	spec2.Servers = []ServerSpec{srv(t, "a:80"), srv(t, "b:80", "weight=2"), srv(t, "d:80")}
	g2, err := store.Build(spec2)
	if err != nil {
		t.Fatal(err)
	}
	st := map[string]ServerStatus{}
	for _, s := range g2.Servers() {
		st[s.Addr] = s
	}
	if st["a:80"].State != StateUnavailable || st["a:80"].Fails != 1 {
		t.Errorf("a after reload: %+v", st["a:80"])
	}
	if st["b:80"].Active != 1 || st["b:80"].HeaderTime != 40*time.Millisecond || st["b:80"].Weight != 2 {
		t.Errorf("b after reload: %+v", st["b:80"])
	}
	// The request picked before the reload reports to its own group; the
	// count is shared.
	g1.Done(held, Outcome{Result: Success})
	if n := g2.Peer("b:80").Active(); n != 0 {
		t.Errorf("b active %d after old request finished", n)
	}
	// c left and comes back: fresh state, drain forgotten; a drain set on a
	// server that stays survives.
	g2.Peer("d:80").SetDrain(true)
	g3, _ := store.Build(spec2)
	if !g3.Peer("d:80").Draining() {
		t.Error("d lost its drain across a reload")
	}
	g4, _ := store.Build(spec)
	if g4.Peer("c:80").Draining() {
		t.Error("c kept drain after leaving the group")
	}
	spec4 := spec2
	store.Retain()
	g5, _ := store.Build(spec4)
	if g5.Peer("d:80").Draining() {
		t.Error("Retain kept state of a dropped group")
	}
}

func TestBuildErrors(t *testing.T) {
	s := NewStore(nil)
	for _, spec := range []Spec{
		{Name: "none"},
		{Name: "dup", Servers: []ServerSpec{{Addr: "a:1"}, {Addr: "a:1"}}},
		{Name: "backup-only", Servers: []ServerSpec{{Addr: "a:1", Backup: true}}},
		{Name: "method", Method: "fastest", Servers: []ServerSpec{{Addr: "a:1"}}},
		{Name: "sticky", Sticky: &StickySpec{Mode: "magic"}, Servers: []ServerSpec{{Addr: "a:1"}}},
	} {
		if _, err := s.Build(spec); err == nil {
			t.Errorf("%s: no error", spec.Name)
		}
	}
}

func TestHealth(t *testing.T) {
	g, clk := build(t, Spec{Name: "u", Servers: []ServerSpec{srv(t, "a:80", "slow_start=10s"), srv(t, "b:80")}})
	a := g.Peer("a:80")
	a.SetHealthy(false)
	if got := sequence(t, g, 3, abc); got != "bbb" {
		t.Errorf("unhealthy server picked: %s", got)
	}
	a.SetHealthy(true)
	if st := g.Servers()[0].State; st != StateSlowStart {
		t.Errorf("state %s after recovery", st)
	}
	clk.Advance(10 * time.Second)
	if st := g.Servers()[0].State; st != StateUp {
		t.Errorf("state %s after slow start", st)
	}
}

// TestConcurrentPicks runs every method under -race with picks, reports,
// reloads and admin changes at once.
func TestConcurrentPicks(t *testing.T) {
	store := NewStore(nil)
	specs := []Spec{
		{Method: RoundRobin}, {Method: LeastConn}, {Method: IPHash}, {Method: Hash},
		{Method: Hash, Consistent: true, BalanceFactor: 1.5}, {Method: Random},
		{Method: Random, Two: true, TwoMethod: LeastTime}, {Method: LeastTime, LeastTimeMode: "header", Inflight: true},
		{Method: RoundRobin, Sticky: &StickySpec{Mode: "learn"}},
	}
	for i, spec := range specs {
		spec.Name = string(rune('a' + i))
		spec.Servers = servers(t, 6, "max_conns=50", "slow_start=1s")
		spec.Servers[5].Backup = spec.Method == RoundRobin
		g, err := store.Build(spec)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var tr Tried
				var ex Explanation
				for i := range 500 {
					tr.Reset()
					r := PickRequest{Tried: &tr, HashKey: []byte{byte(i), byte(w)}, ClientAddr: mustAddr("10.1.2.3"), Route: "s" + string(rune('0'+i%10))}
					if i%7 == 0 {
						ex.Reset()
						r.Explain = &ex
					}
					for range 2 {
						p, err := g.Pick(&r)
						if err != nil {
							break
						}
						res := Success
						if i%13 == 0 {
							res = ConnectError
						}
						g.Done(p, Outcome{Result: res, HeaderTime: time.Duration(i) * time.Microsecond})
						g.Learn(p, r.Route, true)
					}
				}
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				g.Peers()[i%6].SetDrain(i%2 == 0)
				g.Peers()[(i+1)%6].SetHealthy(i%3 != 0)
				_ = g.Servers()
				if _, err := store.Build(spec); err != nil {
					t.Error(err)
				}
			}
		}()
		wg.Wait()
		for _, s := range g.Servers() {
			if s.Active != 0 {
				t.Errorf("%s %s: %d active after all done", spec.Name, s.Addr, s.Active)
			}
		}
	}
}
