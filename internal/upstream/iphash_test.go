package upstream

import (
	"fmt"
	"net/netip"
	"testing"
)

// ipHashRef is nginx's formula written out plainly, for equal weights.
func ipHashRef(addr netip.Addr, n int) int {
	var b []byte
	if addr.Is4() {
		a := addr.As4()
		b = a[:3]
	} else {
		a := addr.As16()
		b = a[:]
	}
	h := uint32(89)
	for _, x := range b {
		h = (h*113 + uint32(x)) % 6271
	}
	return int(h % uint32(n))
}

func TestIPHash(t *testing.T) {
	g, _ := build(t, Spec{Name: "u", Method: IPHash, Servers: servers(t, 4)})
	for _, s := range []string{"192.0.2.1", "192.0.2.200", "198.51.100.7", "203.0.113.9", "2001:db8::1", "2001:db8::2", "::ffff:192.0.2.1"} {
		a := netip.MustParseAddr(s)
		want := g.Peers()[ipHashRef(a, 4)].Addr()
		for range 3 {
			if got := pickDone(t, g, PickRequest{ClientAddr: a}); got != want {
				t.Errorf("%s: got %s, want %s", s, got, want)
			}
		}
	}
	// The last octet of IPv4 is not hashed.
	x := pickDone(t, g, PickRequest{ClientAddr: mustAddr("192.0.2.1")})
	if y := pickDone(t, g, PickRequest{ClientAddr: mustAddr("192.0.2.254")}); x != y {
		t.Errorf("same /24 went to %s and %s", x, y)
	}
}

func TestIPHashWeightsAndFailover(t *testing.T) {
	g, _ := build(t, Spec{Name: "u", Method: IPHash, Servers: []ServerSpec{
		srv(t, "a:80", "weight=3"), srv(t, "b:80"), srv(t, "c:80", "down"),
	}})
	got := counts(t, g, 3000, func(i int) PickRequest {
		return PickRequest{ClientAddr: netip.AddrFrom4([4]byte{10, byte(i / 256), byte(i), 1})}
	})
	if got["c:80"] != 0 {
		t.Errorf("down server picked: %v", got)
	}
	// c's share is rehashed onto a and b by weight: about 3:1.
	checkShares(t, got, map[string]int{"a:80": 3, "b:80": 1}, 0.05)
}

func TestIPHashInvalidAddr(t *testing.T) {
	g, _ := build(t, Spec{Name: "u", Method: IPHash, Servers: servers(t, 3)})
	want := g.Peers()[ipHashRef(netip.AddrFrom4([4]byte{0, 0, 0, 9}), 3)].Addr()
	if got := pickDone(t, g, PickRequest{}); got != want {
		t.Errorf("pseudo address: %s, want %s", got, want)
	}
	_ = fmt.Sprint()
}
