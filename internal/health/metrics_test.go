package health

import (
	"testing"

	"bunsan/internal/metrics"
	"bunsan/internal/upstream"
)

// Health verdicts and counts reach the Prometheus metrics.
func TestMetricsFigures(t *testing.T) {
	r := newRig(t)
	good, bad := newBackend(t, "good"), newBackend(t, "bad")
	bad.status.Store(500)
	g := r.group(t, "b", 0, good.addr(), bad.addr())
	r.checker.Start([]Target{{Check: httpCheck(nil), Group: g}})
	r.next(t)
	r.clock.Step(t)
	r.next(t)
	m := metrics.New(metrics.Options{HTTP: func() []*upstream.Group { return []*upstream.Group{g} }, Health: r.checker.Metrics})
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]float64{
		"bunsan_upstream_server_healthy":                  {good.addr(): 1, bad.addr(): 0},
		"bunsan_upstream_server_health_checks_total":      {good.addr(): 1, bad.addr(): 1},
		"bunsan_upstream_server_health_check_fails_total": {good.addr(): 0, bad.addr(): 1},
		"bunsan_upstream_server_unhealthy_total":          {good.addr(): 0, bad.addr(): 1},
	}
	seen := 0
	for _, f := range fams {
		w := want[f.GetName()]
		for _, s := range f.Metric {
			for _, l := range s.Label {
				if l.GetName() != "server" {
					continue
				}
				exp, ok := w[l.GetValue()]
				if !ok {
					continue
				}
				got := s.GetGauge().GetValue() + s.GetCounter().GetValue()
				if got != exp {
					t.Errorf("%s{server=%s} = %v, want %v", f.GetName(), l.GetValue(), got, exp)
				}
				seen++
			}
		}
	}
	if seen != 8 {
		t.Errorf("found %d of 8 samples", seen)
	}
}
