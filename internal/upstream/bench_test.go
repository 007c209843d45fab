package upstream

import (
	"fmt"
	"net/netip"
	"testing"
)

// benchPick measures one Pick and its Done on a group of n servers, with
// a reused Tried (a request's retries share one; large groups allocate its
// bitmap once) and varying keys and client addresses.
func benchPick(b *testing.B, spec Spec) {
	for _, n := range []int{3, 100, 10000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			spec.Name = "bench"
			spec.Servers = servers(b, n)
			g, err := NewStore(nil).Build(spec)
			if err != nil {
				b.Fatal(err)
			}
			keys := make([][]byte, 1024)
			addrs := make([]netip.Addr, 1024)
			for i := range keys {
				keys[i] = fmt.Appendf(nil, "/static/%d.css", i)
				addrs[i] = netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 1})
			}
			var tr Tried
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				tr.Reset()
				r := PickRequest{Tried: &tr, HashKey: keys[i&1023], ClientAddr: addrs[i&1023]}
				p, err := g.Pick(&r)
				if err != nil {
					b.Fatal(err)
				}
				g.Done(p, Outcome{Result: Success})
			}
		})
	}
}

func BenchmarkPickRoundRobin(b *testing.B) { benchPick(b, Spec{Method: RoundRobin}) }
func BenchmarkPickLeastConn(b *testing.B)  { benchPick(b, Spec{Method: LeastConn}) }
func BenchmarkPickIPHash(b *testing.B)     { benchPick(b, Spec{Method: IPHash}) }
func BenchmarkPickHash(b *testing.B)       { benchPick(b, Spec{Method: Hash}) }
func BenchmarkPickHashConsistent(b *testing.B) {
	benchPick(b, Spec{Method: Hash, Consistent: true})
}
func BenchmarkPickHashBounded(b *testing.B) {
	benchPick(b, Spec{Method: Hash, Consistent: true, BalanceFactor: 1.25})
}
func BenchmarkPickRandom(b *testing.B) { benchPick(b, Spec{Method: Random}) }
func BenchmarkPickRandomTwo(b *testing.B) {
	benchPick(b, Spec{Method: Random, Two: true, TwoMethod: LeastConn})
}
func BenchmarkPickRandomTwoPeakEWMA(b *testing.B) {
	benchPick(b, Spec{Method: Random, Two: true, TwoMethod: LeastTime, LeastTimeMode: "header"})
}
func BenchmarkPickLeastTime(b *testing.B) {
	benchPick(b, Spec{Method: LeastTime, LeastTimeMode: "header"})
}
func BenchmarkPickSticky(b *testing.B) {
	spec := Spec{Method: RoundRobin, Sticky: &StickySpec{Mode: "route"}}
	for _, n := range []int{3, 100, 10000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			spec.Name, spec.Servers = "bench", servers(b, n)
			g, _ := NewStore(nil).Build(spec)
			route := g.Peers()[n/2].StickyID()
			var tr Tried
			b.ReportAllocs()
			for b.Loop() {
				tr.Reset()
				p, err := g.Pick(&PickRequest{Tried: &tr, Route: route})
				if err != nil {
					b.Fatal(err)
				}
				g.Done(p, Outcome{})
			}
		})
	}
}

// BenchmarkPickParallel shows contention: round-robin's critical section
// against the lock-free hash.
func BenchmarkPickParallel(b *testing.B) {
	for _, spec := range []Spec{{Method: RoundRobin}, {Method: LeastConn}, {Method: Hash, Consistent: true}, {Method: Random, Two: true}} {
		name := string(spec.Method)
		if spec.Consistent {
			name += "_consistent"
		}
		if spec.Two {
			name += "_two"
		}
		b.Run(name, func(b *testing.B) {
			spec.Name, spec.Servers = "bench", servers(b, 100)
			g, _ := NewStore(nil).Build(spec)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				var tr Tried
				key := []byte("/x/0000")
				i := 0
				for pb.Next() {
					i++
					key[3], key[4] = byte(i), byte(i>>8)
					tr.Reset()
					p, err := g.Pick(&PickRequest{Tried: &tr, HashKey: key})
					if err != nil {
						b.Fatal(err)
					}
					g.Done(p, Outcome{})
				}
			})
		})
	}
}

// TestPickAllocs checks the 0-allocation promise without a benchmark run.
func TestPickAllocs(t *testing.T) {
	for _, spec := range []Spec{
		{Method: RoundRobin}, {Method: LeastConn}, {Method: IPHash}, {Method: Hash},
		{Method: Hash, Consistent: true, BalanceFactor: 1.5}, {Method: Random}, {Method: Random, Two: true},
		{Method: Random, Two: true, TwoMethod: LeastTime}, {Method: LeastTime, LeastTimeMode: "header", Inflight: true},
	} {
		for _, n := range []int{3, 100} {
			spec.Name, spec.Servers = "u", servers(t, n)
			g, _ := NewStore(nil).Build(spec)
			var tr Tried
			key := []byte("/k")
			allocs := testing.AllocsPerRun(200, func() {
				tr.Reset()
				p, err := g.Pick(&PickRequest{Tried: &tr, HashKey: key, ClientAddr: netip.AddrFrom4([4]byte{1, 2, 3, 4})})
				if err != nil {
					t.Fatal(err)
				}
				g.Done(p, Outcome{Result: Success})
			})
			if allocs != 0 {
				t.Errorf("%s two=%v n=%d: %.1f allocs per Pick+Done", spec.Method, spec.Two, n, allocs)
			}
		}
	}
}

// TestPickAllocsPerRequest is the proxy's pattern: a Tried and a
// PickRequest on the stack of each request must stay there.
func TestPickAllocsPerRequest(t *testing.T) {
	for _, spec := range []Spec{{Method: RoundRobin}, {Method: Hash, Consistent: true}, {Method: LeastTime, LeastTimeMode: "header"}} {
		spec.Name, spec.Servers = "u", servers(t, 10)
		g, _ := NewStore(nil).Build(spec)
		key := []byte("/k")
		allocs := testing.AllocsPerRun(200, func() {
			var tr Tried
			r := PickRequest{Tried: &tr, HashKey: key}
			for range 2 {
				p, err := g.Pick(&r)
				if err != nil {
					t.Fatal(err)
				}
				g.Done(p, Outcome{Result: Next})
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %.1f allocs per request", spec.Method, allocs)
		}
	}
}
