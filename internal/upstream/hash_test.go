package upstream

import (
	"fmt"
	"hash/crc32"
	"math"
	"testing"
)

func keyReq(i int) PickRequest { return PickRequest{HashKey: fmt.Appendf(nil, "/item/%d", i)} }

func TestHashDistributionAndStability(t *testing.T) {
	for _, consistent := range []bool{false, true} {
		t.Run(fmt.Sprint("consistent=", consistent), func(t *testing.T) {
			g, _ := build(t, Spec{Name: "u", Method: Hash, Consistent: consistent, Servers: []ServerSpec{
				srv(t, "a:80", "weight=2"), srv(t, "b:80"), srv(t, "c:80"),
			}})
			got := counts(t, g, 20000, keyReq)
			checkShares(t, got, map[string]int{"a:80": 2, "b:80": 1, "c:80": 1}, 0.04)
			for i := range 50 {
				first := pickDone(t, g, keyReq(i))
				for range 3 {
					if again := pickDone(t, g, keyReq(i)); again != first {
						t.Fatalf("key %d moved from %s to %s", i, first, again)
					}
				}
			}
		})
	}
}

func TestHashSkipsUnavailable(t *testing.T) {
	for _, consistent := range []bool{false, true} {
		t.Run(fmt.Sprint("consistent=", consistent), func(t *testing.T) {
			spec := Spec{Name: "u", Method: Hash, Consistent: consistent, Servers: servers(t, 4)}
			g, _ := build(t, spec)
			before := map[int]string{}
			for i := range 400 {
				before[i] = pickDone(t, g, keyReq(i))
			}
			down := g.Peers()[1]
			down.SetDown(true)
			moved := 0
			for i := range 400 {
				got := pickDone(t, g, keyReq(i))
				if got == down.Addr() {
					t.Fatalf("key %d on down server", i)
				}
				if got != before[i] {
					moved++
					if before[i] != down.Addr() {
						t.Errorf("key %d moved from live %s to %s", i, before[i], got)
					}
				}
			}
			if moved == 0 {
				t.Error("no key moved off the down server")
			}
		})
	}
}

func TestHashEmptyKeyIsRoundRobin(t *testing.T) {
	g, _ := build(t, Spec{Name: "u", Method: Hash, Servers: []ServerSpec{srv(t, "a:80"), srv(t, "b:80")}})
	if got := sequence(t, g, 4, abc); got != "abab" {
		t.Errorf("empty key: %s, want round-robin abab", got)
	}
}

func TestKetamaRing(t *testing.T) {
	g, _ := build(t, Spec{Name: "u", Method: Hash, Consistent: true, Servers: []ServerSpec{
		srv(t, "10.0.0.1:80", "weight=2"), srv(t, "10.0.0.2:8080"),
	}})
	if n := len(g.set.Load().primary.ring); n != 480 {
		t.Errorf("ring has %d points, want 160 per unit of weight = 480", n)
	}
	for i := 1; i < len(g.set.Load().primary.ring); i++ {
		if g.set.Load().primary.ring[i-1].hash >= g.set.Load().primary.ring[i].hash {
			t.Fatal("ring not sorted and unique")
		}
	}
	for _, tc := range []struct{ in, host, port string }{
		{"10.0.0.1:80", "10.0.0.1", "80"},
		{"[::1]:8080", "[::1]", "8080"},
		{"backend", "backend", ""},
		{"unix:/tmp/s", "/tmp/s", ""},
		{"UNIX:/tmp/s", "/tmp/s", ""},
		{"a:b", "a:b", ""},
	} {
		if h, p := ketamaHostPort(tc.in); h != tc.host || p != tc.port {
			t.Errorf("ketamaHostPort(%q) = %q,%q", tc.in, h, p)
		}
	}
}

// TestConsistentHashMovesOneNth measures how many keys move when a server
// joins or leaves: about 1/N with consistent hashing, most of them without.
func TestConsistentHashMovesOneNth(t *testing.T) {
	const keys = 20000
	assign := func(spec Spec) []string {
		g, _ := build(t, spec)
		out := make([]string, keys)
		for i := range out {
			out[i] = pickDone(t, g, keyReq(i))
		}
		return out
	}
	moved := func(a, b []string) float64 {
		n := 0
		for i := range a {
			if a[i] != b[i] {
				n++
			}
		}
		return float64(n) / float64(len(a))
	}
	for _, n := range []int{5, 10, 20} {
		sv := servers(t, n+1)
		base := Spec{Name: "u", Method: Hash, Consistent: true, Servers: sv[:n]}
		grown := Spec{Name: "u", Method: Hash, Consistent: true, Servers: sv}
		shrunk := Spec{Name: "u", Method: Hash, Consistent: true, Servers: sv[1:n]}
		a, b, c := assign(base), assign(grown), assign(shrunk)
		add, rm := moved(a, b), moved(a, c)
		t.Logf("N=%d: adding one moves %.3f (1/(N+1)=%.3f), removing one moves %.3f (1/N=%.3f)", n, add, 1/float64(n+1), rm, 1/float64(n))
		if math.Abs(add-1/float64(n+1)) > 0.5/float64(n+1) || math.Abs(rm-1/float64(n)) > 0.5/float64(n) {
			t.Errorf("N=%d: moved %.3f / %.3f, want about 1/(N+1) and 1/N", n, add, rm)
		}
		plain := func(s Spec) Spec { s.Consistent = false; return s }
		if pm := moved(assign(plain(base)), assign(plain(grown))); pm < 0.5 {
			t.Errorf("N=%d: plain hash moved only %.3f; the test would not tell", n, pm)
		}
	}
}

func TestBoundedLoad(t *testing.T) {
	const n, factor = 4, 1.25
	g, _ := build(t, Spec{Name: "u", Method: Hash, Consistent: true, BalanceFactor: factor, Servers: servers(t, n)})
	// Every request has the same key: without the bound all would land on
	// one server.
	var held []*Peer
	for i := range 200 {
		p := pick(t, g, PickRequest{HashKey: []byte("hot")})
		held = append(held, p)
		inflight := float64(i + 1)
		limit := math.Ceil(factor * inflight / n)
		for _, q := range g.Peers() {
			if a := float64(q.Active()); a > limit {
				t.Fatalf("after %d picks %s has %v > %v", i+1, q.Addr(), a, limit)
			}
		}
	}
	for _, p := range held {
		g.Done(p, Outcome{})
	}
	// Idle again: the key goes home.
	first := pickDone(t, g, PickRequest{HashKey: []byte("hot")})
	var ex Explanation
	p := pick(t, g, PickRequest{HashKey: []byte("hot"), Explain: &ex})
	if p.Addr() != first {
		t.Errorf("key left home when idle: %s vs %s", p.Addr(), first)
	}
	q := pick(t, g, PickRequest{HashKey: []byte("hot"), Explain: &ex})
	_ = q
	if ex.Method != "hash consistent balance_factor=1.25" {
		t.Errorf("method %q", ex.Method)
	}
}

func TestCRCDecimal(t *testing.T) {
	for _, n := range []uint32{0, 1, 9, 10, 20, 123, 4294967295} {
		want := uint32(0)
		if n > 0 {
			want = crc32.ChecksumIEEE(fmt.Append(nil, n))
		}
		if got := crcDecimal(n); got != want {
			t.Errorf("crcDecimal(%d) = %x, want %x", n, got, want)
		}
	}
}

func TestCRCUpdate(t *testing.T) {
	data := []byte("The quick brown fox jumps over the lazy dog, 0123456789 and more")
	for i := 0; i <= len(data); i++ {
		for _, split := range []int{0, i / 2, i} {
			got := crcUpdate(crcUpdate(0, data[:split]), data[split:i])
			if want := crc32.ChecksumIEEE(data[:i]); got != want {
				t.Fatalf("len %d split %d: %x, want %x", i, split, got, want)
			}
		}
	}
}
