package health

import (
	"testing"
	"time"

	"bunsan/internal/config"
	"bunsan/internal/upstream"
)

func TestFailsPasses(t *testing.T) {
	tests := []struct {
		name          string
		fails, passes int
		statuses      []int32
		want          []bool
	}{
		{"one fail takes out", 1, 1, []int32{200, 503, 200}, []bool{true, false, true}},
		{"fails=3 needs three in a row", 3, 1, []int32{503, 503, 200, 503, 503, 503}, []bool{true, true, true, true, true, false}},
		{"passes=2 needs two in a row", 1, 2, []int32{503, 200, 503, 200, 200}, []bool{false, false, false, false, true}},
		{"3xx passes, 4xx fails", 1, 1, []int32{302, 404}, []bool{true, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			b := newBackend(t, "a")
			g := r.group(t, "b", 0, b.addr())
			r.checker.Start([]Target{{Check: httpCheck(func(c *config.HealthCheck) { c.Fails, c.Passes = tt.fails, tt.passes }), Group: g}})
			for i, st := range tt.statuses {
				b.status.Store(st)
				if i > 0 {
					if d := r.clock.Step(t); d != time.Second {
						t.Fatalf("round %d came after %v, want the interval", i, d)
					}
				}
				res := r.next(t)
				if res.OK != (st < 400) || res.Healthy != tt.want[i] || g.Peers()[0].Healthy() != tt.want[i] {
					t.Fatalf("check %d (status %d): ok=%v healthy=%v peer=%v, want healthy=%v", i, st, res.OK, res.Healthy, g.Peers()[0].Healthy(), tt.want[i])
				}
			}
			st, ok := r.checker.Status(false, "b", b.addr())
			if !ok || st.Checks != uint64(len(tt.statuses)) || st.LastPassed != (tt.statuses[len(tt.statuses)-1] < 400) {
				t.Errorf("status %+v ok=%v", st, ok)
			}
		})
	}
}

// An unhealthy server gets no requests; the other takes them all.
func TestUnhealthyLeavesRotation(t *testing.T) {
	r := newRig(t)
	good, bad := newBackend(t, "good"), newBackend(t, "bad")
	bad.status.Store(500)
	g := r.group(t, "b", 0, good.addr(), bad.addr())
	r.checker.Start([]Target{{Check: httpCheck(nil), Group: g}})
	r.next(t)
	r.clock.Step(t)
	if res := r.next(t); res.Addr != bad.addr() || res.OK {
		t.Fatalf("second check: %+v", res)
	}
	for range 10 {
		p, err := g.Pick(&upstream.PickRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if p.Addr() != good.addr() {
			t.Fatalf("picked the unhealthy server %s", p.Addr())
		}
		g.Done(p, upstream.Outcome{Result: upstream.Success})
	}
	st, _ := r.checker.Status(false, "b", bad.addr())
	if st.Healthy || st.Unhealthy != 1 || st.Fails != 1 {
		t.Errorf("status of the bad server: %+v", st)
	}
}

// Checks of a group are spread over the interval, server i of n at
// i*interval/n.
func TestSpread(t *testing.T) {
	r := newRig(t)
	var addrs []string
	for i := range 4 {
		addrs = append(addrs, newBackend(t, string(rune('a'+i))).addr())
	}
	g := r.group(t, "b", 0, addrs...)
	start := r.clock.Now()
	r.checker.Start([]Target{{Check: httpCheck(func(c *config.HealthCheck) { c.Interval = 4 * time.Second }), Group: g}})
	for i := range 8 {
		if i > 0 {
			r.clock.Step(t)
		}
		res := r.next(t)
		if want := time.Duration(i) * time.Second; r.clock.Now().Sub(start) != want || res.Addr != addrs[i%4] {
			t.Fatalf("check %d of %s at %v, want %s at %v", i, res.Addr, r.clock.Now().Sub(start), addrs[i%4], want)
		}
	}
}

// A check still running when its next turn comes is not doubled.
func TestNoOverlap(t *testing.T) {
	r := newRig(t)
	b := newBackend(t, "slow")
	b.block = make(chan struct{})
	g := r.group(t, "b", 0, b.addr())
	r.checker.Start([]Target{{Check: httpCheck(nil), Group: g}})
	for range 3 {
		r.clock.Step(t) // rounds pass while the first check hangs
	}
	close(b.block)
	if res := r.next(t); !res.OK {
		t.Fatalf("the slow check failed: %v", res.Err)
	}
	r.checker.Stop()
	if b.hits.Load() != 1 || b.maxSeen.Load() != 1 {
		t.Errorf("backend saw %d checks, %d at once; want 1", b.hits.Load(), b.maxSeen.Load())
	}
}

func TestMandatoryAndReload(t *testing.T) {
	tests := []struct {
		name       string
		persistent bool
		// wantAfterReload is the verdict right after a reload of a server
		// that was healthy.
		wantAfterReload bool
	}{
		{"mandatory", false, false},
		{"mandatory persistent", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			b := newBackend(t, "a")
			g := r.group(t, "b", 0, b.addr())
			check := httpCheck(func(c *config.HealthCheck) { c.Mandatory, c.Persistent = true, tt.persistent })
			r.checker.Start([]Target{{Check: check, Group: g}})
			// Start returns with the new server out of rotation: it
			// has not passed a check yet.
			if res := r.next(t); !res.OK || !g.Peers()[0].Healthy() {
				t.Fatalf("first check: %+v", res)
			}
			// A reload: a new group for the same servers.
			g2 := r.group(t, "b", 0, b.addr())
			r.checker.Start([]Target{{Check: check, Group: g2}})
			if got := g2.Peers()[0].Healthy(); got != tt.wantAfterReload {
				t.Fatalf("right after reload healthy=%v, want %v", got, tt.wantAfterReload)
			}
			if res := r.next(t); !res.OK || !g2.Peers()[0].Healthy() {
				t.Fatalf("check after reload: %+v", res)
			}
			if st, _ := r.checker.Status(false, "b", b.addr()); st.Checks != 2 {
				t.Errorf("counters did not carry over: %+v", st)
			}
		})
	}
}

func TestMandatoryNewServerWaits(t *testing.T) {
	r := newRig(t)
	b := newBackend(t, "a")
	b.block = make(chan struct{})
	g := r.group(t, "b", 0, b.addr())
	r.checker.Start([]Target{{Check: httpCheck(func(c *config.HealthCheck) { c.Mandatory = true }), Group: g}})
	if g.Peers()[0].Healthy() {
		t.Fatal("a mandatory server took traffic before its first check")
	}
	if _, err := g.Pick(&upstream.PickRequest{}); err == nil {
		t.Fatal("picked a server still being checked")
	}
	close(b.block)
	if res := r.next(t); !res.OK || !g.Peers()[0].Healthy() {
		t.Fatalf("first check: %+v", res)
	}
}

// Recovery ramps up under slow_start; dropping the check clears the flag.
func TestSlowStartAndDroppedCheck(t *testing.T) {
	r := newRig(t)
	a, b := newBackend(t, "a"), newBackend(t, "b")
	g := r.group(t, "b", 30*time.Second, a.addr(), b.addr())
	check := httpCheck(nil)
	r.checker.Start([]Target{{Check: check, Group: g}})
	r.next(t)
	b.status.Store(503)
	r.clock.Step(t)
	if res := r.next(t); res.Healthy {
		t.Fatal("b still healthy")
	}
	b.status.Store(200)
	r.clock.Step(t) // round 2: a
	r.next(t)
	r.clock.Step(t) // b
	if res := r.next(t); !res.Healthy {
		t.Fatal("b did not recover")
	}
	if st := g.Servers()[1].State; st != upstream.StateSlowStart {
		t.Errorf("recovered server state %q, want slow_start", st)
	}

	b.status.Store(503)
	r.clock.Step(t) // round 3: a
	r.next(t)
	r.clock.Step(t)
	if res := r.next(t); res.Healthy {
		t.Fatal("b still healthy")
	}
	r.checker.Start(nil) // the reload removed health_check
	if !g.Peers()[1].Healthy() {
		t.Error("a server whose check was removed stays out of rotation")
	}
}
