package upstream

import (
	"strings"
	"testing"
)

func TestExplanation(t *testing.T) {
	tests := []struct {
		name  string
		spec  Spec
		setup func(g *Group)
		req   PickRequest
		want  []string // substrings of String()
	}{
		{
			name: "round robin skips",
			spec: Spec{Servers: []ServerSpec{{Addr: "a:80", Down: true}, {Addr: "b:80", MaxConns: 1}, {Addr: "c:80", Drain: true}, {Addr: "d:80"}, {Addr: "e:80", Backup: true}}},
			setup: func(g *Group) {
				g.Peer("b:80").st.conns.Store(1)
			},
			want: []string{"method=round_robin", "winner=d:80", "a:80(down)", "b:80(max_conns)", "c:80(draining)", "e:80(backup)", `score="current_weight=1 total=1 effective_weight=1"`},
		},
		{
			name:  "backup fallback",
			spec:  Spec{Servers: []ServerSpec{{Addr: "a:80", MaxFails: 1}, {Addr: "b:80", Backup: true}}},
			setup: func(g *Group) { g.Peer("a:80").SetHealthy(false) },
			want:  []string{`fallback="backup servers"`, "winner=b:80", "a:80(unhealthy)"},
		},
		{
			name: "hash 20 tries",
			spec: Spec{Method: Hash, Servers: []ServerSpec{{Addr: "a:80", Down: true}, {Addr: "b:80", Down: true}, {Addr: "c:80"}}},
			setup: func(g *Group) {
				g.Peer("c:80").st.fails.Store(1)
				g.Peer("c:80").st.checked.Store(g.nowNanos())
				g.Peers()[2].maxFails = 1
			},
			req:  PickRequest{HashKey: []byte("k")},
			want: []string{"method=hash", `fallback="round_robin: hash after 20 tries"`, "winner=none"},
		},
		{
			name: "failed server",
			spec: Spec{Method: IPHash, Servers: []ServerSpec{{Addr: "a:80", MaxFails: 1, FailTimeout: DefaultFailTimeout}, {Addr: "b:80"}}},
			setup: func(g *Group) {
				for _, p := range g.Peers() {
					p.st.fails.Store(1)
					p.st.checked.Store(g.nowNanos())
				}
				g.Peers()[1].maxFails = 0
			},
			req:  PickRequest{ClientAddr: mustAddr("192.0.2.1")},
			want: []string{"method=ip_hash", "winner=b:80"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, _ := build(t, Spec{Name: "u", Method: tc.spec.Method, Servers: tc.spec.Servers})
			if tc.setup != nil {
				tc.setup(g)
			}
			var ex Explanation
			r := tc.req
			r.Explain = &ex
			_, _ = g.Pick(&r)
			s := ex.String()
			for _, w := range tc.want {
				if !strings.Contains(s, w) {
					t.Errorf("%s\nmissing %q", s, w)
				}
			}
			ex.Reset()
			if ex.String() != "method= winner=none" {
				t.Errorf("after Reset: %q", ex.String())
			}
		})
	}
}

func FuzzPickHash(f *testing.F) {
	for _, s := range []string{"", "a", "/index.html", "\x00\xff", strings.Repeat("x", 300)} {
		f.Add([]byte(s), true)
		f.Add([]byte(s), false)
	}
	store := NewStore(nil)
	var groups [2]*Group
	for i, consistent := range []bool{false, true} {
		g, err := store.Build(Spec{Name: string(rune('a' + i)), Method: Hash, Consistent: consistent, Servers: []ServerSpec{
			{Addr: "10.0.0.1:80", Weight: 3}, {Addr: "10.0.0.2:80", Down: true}, {Addr: "10.0.0.3:80"},
		}})
		if err != nil {
			f.Fatal(err)
		}
		groups[i] = g
	}
	f.Fuzz(func(t *testing.T, key []byte, consistent bool) {
		g := groups[0]
		if consistent {
			g = groups[1]
		}
		var tr Tried
		p, err := g.Pick(&PickRequest{HashKey: key, Tried: &tr})
		if err != nil {
			t.Fatal(err)
		}
		g.Done(p, Outcome{})
		if p.Addr() == "10.0.0.2:80" {
			t.Fatal("picked a down server")
		}
		if len(key) > 0 {
			q, _ := g.Pick(&PickRequest{HashKey: key})
			g.Done(q, Outcome{})
			if q != p {
				t.Fatalf("key %q moved from %s to %s", key, p.Addr(), q.Addr())
			}
		}
	})
}
