package upstream

// Differential tests: the same upstream definitions through a real nginx
// (internal/testutil/nginxtest) and through Group.Pick must choose the
// same server for every key, client address and position in the
// round-robin sequence.
//
// nginx 1.22 (Debian's) and current nginx (1.29–1.31) agree on everything
// compared here, including the round-robin fallback for an empty hash
// key. They differ elsewhere, and this package follows current nginx:
// the hash methods test "fewer than two servers" (peers->number < 2)
// where 1.22 tests peers->single (the same for a static configuration);
// current nginx rebuilds the ring and ranges when "resolve" changes the
// servers (zone + resolve, 1.27.3+), which 1.22 cannot do and bunsan does
// not do yet; and least_time, random two least_time and sticky, NGINX
// Plus only in 1.22, follow the open-source modules of 1.29+ (not
// compared: 1.22 has none of them).

import (
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"bunsan/internal/testutil/nginxtest"
)

// diffSetup is the backends and the server lines shared by nginx and the
// Specs: the address text is identical in both, since consistent hashing
// hashes it.
type diffSetup struct {
	addrs  []string          // server addresses, in order
	name   map[string]string // address → backend name ("dead" for none)
	nginx  string            // 127.0.0.1:port nginx listens on
	client *http.Client
}

type diffUpstream struct {
	path  string   // location and upstream name
	lines []string // method directive(s)
	spec  Spec
}

// startDiff starts n backends and nginx with the upstreams. With dead, a
// server that refuses connections (a closed port) is inserted second.
func startDiff(t *testing.T, n int, dead bool, ups []diffUpstream, params func(i int, down bool) string) *diffSetup {
	t.Helper()
	nginxtest.Binary(t)
	d := &diffSetup{name: map[string]string{}, nginx: nginxtest.FreeAddr(t)}
	for _, b := range nginxtest.StartBackends(t, n) {
		d.addrs = append(d.addrs, b.Addr)
		d.name[b.Addr] = b.Name
	}
	if dead {
		a := nginxtest.FreeAddr(t)
		d.addrs = append(d.addrs[:1], append([]string{a}, d.addrs[1:]...)...)
		d.name[a] = "dead"
	}
	var conf strings.Builder
	conf.WriteString("    set_real_ip_from 127.0.0.1;\n    real_ip_header X-Real-IP;\n")
	var locs strings.Builder
	for _, u := range ups {
		fmt.Fprintf(&conf, "    upstream %s {\n", u.path)
		for _, l := range u.lines {
			fmt.Fprintf(&conf, "        %s;\n", l)
		}
		for i, a := range d.addrs {
			fmt.Fprintf(&conf, "        server %s%s;\n", a, params(i, strings.HasSuffix(u.path, "_down")))
		}
		conf.WriteString("    }\n")
		fmt.Fprintf(&locs, "        location = /%s { proxy_pass http://%s; }\n", u.path, u.path)
	}
	fmt.Fprintf(&conf, "    server {\n        listen %s;\n%s    }\n", d.nginx, locs.String())
	nginxtest.Start(t, nginxtest.Config{HTTP: conf.String(), Wait: []string{d.nginx}})
	d.client = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	return d
}

// specFor builds the Group matching an upstream block of startDiff.
func (d *diffSetup) specFor(t *testing.T, u diffUpstream, params func(i int, down bool) string) *Group {
	t.Helper()
	spec := u.spec
	spec.Name = u.path
	for i, a := range d.addrs {
		opts := strings.Fields(params(i, strings.HasSuffix(u.path, "_down")))
		spec.Servers = append(spec.Servers, srv(t, a, opts...))
	}
	g, err := NewStore(nil).Build(spec)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// serve runs one request through g as the proxy does: a dead server
// reports a connect error and the request retries with the same Tried.
func (d *diffSetup) serve(t *testing.T, g *Group, r PickRequest) string {
	t.Helper()
	var tr Tried
	r.Tried = &tr
	for {
		p, err := g.Pick(&r)
		if err != nil {
			t.Fatalf("pick: %v", err)
		}
		if d.name[p.Addr()] == "dead" {
			g.Done(p, Outcome{Result: ConnectError})
			continue
		}
		g.Done(p, Outcome{Result: Success})
		return d.name[p.Addr()]
	}
}

func diffKeys() []string {
	keys := []string{"a", "b", "/index.html", "/static/app.js", "user-1", "x%20y", "%E2%82%AC", "0", "-", "A-very-long-key-with-many-characters-0123456789-0123456789-0123456789"}
	for i := len(keys); i < 200; i++ {
		switch i % 4 {
		case 0:
			keys = append(keys, fmt.Sprintf("/item/%d", i*7919))
		case 1:
			keys = append(keys, fmt.Sprintf("session-%x", i*2654435761))
		case 2:
			keys = append(keys, fmt.Sprintf("k%d", i))
		default:
			keys = append(keys, fmt.Sprintf("/user/%d/profile?tab=%d", i, i%3))
		}
	}
	return keys
}

// hashParams gives the backends different weights, and marks one down in
// the "_down" upstreams.
func hashParams(i int, down bool) string {
	s := ""
	if w := []int{1, 2, 1, 3, 1}[i%5]; w > 1 {
		s += fmt.Sprintf(" weight=%d", w)
	}
	if down && i == 1 {
		s += " down"
	}
	return s
}

func TestNginxHash(t *testing.T) {
	ups := []diffUpstream{
		{path: "hash", lines: []string{"hash $arg_k"}, spec: Spec{Method: Hash}},
		{path: "chash", lines: []string{"hash $arg_k consistent"}, spec: Spec{Method: Hash, Consistent: true}},
		{path: "hash_down", lines: []string{"hash $arg_k"}, spec: Spec{Method: Hash}},
		{path: "chash_down", lines: []string{"hash $arg_k consistent"}, spec: Spec{Method: Hash, Consistent: true}},
	}
	d := startDiff(t, 5, false, ups, hashParams)
	keys := diffKeys()
	for _, u := range ups {
		t.Run(u.path, func(t *testing.T) {
			g := d.specFor(t, u, hashParams)
			same, perServer := 0, map[string]int{}
			for _, k := range keys {
				// $arg_k is the raw (still escaped) query value.
				want := nginxtest.Get(t, d.client, "http://"+d.nginx+"/"+u.path+"?k="+url.PathEscape(k))
				got := d.serve(t, g, PickRequest{HashKey: []byte(url.PathEscape(k))})
				perServer[want]++
				if got == want {
					same++
				} else {
					t.Errorf("key %q: nginx chose %s, bunsan %s", k, want, got)
				}
			}
			t.Logf("%s: %d/%d keys on the same server; nginx spread %v", u.path, same, len(keys), perServer)
		})
	}
}

// TestNginxHashEmptyKey checks that an empty key means round-robin, in
// the installed nginx as in bunsan.
func TestNginxHashEmptyKey(t *testing.T) {
	ups := []diffUpstream{{path: "hash", lines: []string{"hash $arg_k"}}}
	plain := func(int, bool) string { return "" }
	d := startDiff(t, 3, false, ups, plain)
	seen := map[string]int{}
	for range 6 {
		seen[nginxtest.Get(t, d.client, "http://"+d.nginx+"/hash?k=")]++
	}
	if len(seen) != 3 {
		t.Errorf("%s: empty key went to %v, want round-robin", nginxtest.Version(t), seen)
	}
}

func TestNginxIPHash(t *testing.T) {
	ups := []diffUpstream{
		{path: "iphash", lines: []string{"ip_hash"}, spec: Spec{Method: IPHash}},
		{path: "iphash_down", lines: []string{"ip_hash"}, spec: Spec{Method: IPHash}},
	}
	d := startDiff(t, 4, false, ups, hashParams)
	var addrs []netip.Addr
	for i := range 150 {
		addrs = append(addrs, netip.AddrFrom4([4]byte{byte(10 + i%7), byte(i * 37), byte(i * 11), byte(i)}))
	}
	for i := range 50 {
		addrs = append(addrs, netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, byte(i), 0, 0, byte(i * 3), 15: byte(i)}))
	}
	for _, u := range ups {
		t.Run(u.path, func(t *testing.T) {
			g := d.specFor(t, u, hashParams)
			same := 0
			for _, a := range addrs {
				want := nginxtest.Get(t, d.client, "http://"+d.nginx+"/"+u.path, "X-Real-IP", a.String())
				if got := d.serve(t, g, PickRequest{ClientAddr: a}); got != want {
					t.Errorf("client %s: nginx chose %s, bunsan %s", a, want, got)
				} else {
					same++
				}
			}
			t.Logf("%s: %d/%d clients on the same server", u.path, same, len(addrs))
		})
	}
}

func TestNginxRoundRobinOrder(t *testing.T) {
	weights := func(i int, down bool) string { return []string{" weight=5", "", ""}[i] }
	ups := []diffUpstream{
		{path: "rr", spec: Spec{}},
		{path: "leastconn", lines: []string{"least_conn"}, spec: Spec{Method: LeastConn}},
	}
	d := startDiff(t, 3, false, ups, weights)
	for _, u := range ups {
		t.Run(u.path, func(t *testing.T) {
			g := d.specFor(t, u, weights)
			var fromNginx, fromBunsan []string
			for range 21 {
				fromNginx = append(fromNginx, nginxtest.Get(t, d.client, "http://"+d.nginx+"/"+u.path))
				fromBunsan = append(fromBunsan, d.serve(t, g, PickRequest{}))
			}
			n, b := strings.Join(fromNginx, " "), strings.Join(fromBunsan, " ")
			if n != b {
				t.Errorf("order differs:\nnginx  %s\nbunsan %s", n, b)
			}
			if want := "b0 b0 b1 b0 b2 b0 b0"; !strings.HasPrefix(n, want) {
				t.Errorf("nginx order %s, want %s…", n, want)
			}
			t.Logf("%s: %s", u.path, n)
		})
	}
}

// TestNginxFailover puts a server that refuses connections second in each
// group: nginx retries the next server (proxy_next_upstream error), counts
// the failure and, once max_fails is reached, skips the server for
// fail_timeout. The test takes well under fail_timeout, so nginx's
// one-second clock does not matter. Every request must end on the same
// backend in nginx and in bunsan, which exercises retries with Tried, the
// rehash continuation of the hash methods and the effective-weight drop
// of round-robin.
func TestNginxFailover(t *testing.T) {
	params := func(i int, _ bool) string {
		return []string{" weight=5 max_fails=3", " max_fails=3", " weight=2", ""}[i]
	}
	ups := []diffUpstream{
		{path: "rr", spec: Spec{}},
		{path: "leastconn", lines: []string{"least_conn"}, spec: Spec{Method: LeastConn}},
		{path: "hash", lines: []string{"hash $arg_k"}, spec: Spec{Method: Hash}},
		{path: "chash", lines: []string{"hash $arg_k consistent"}, spec: Spec{Method: Hash, Consistent: true}},
		{path: "iphash", lines: []string{"ip_hash"}, spec: Spec{Method: IPHash}},
	}
	d := startDiff(t, 3, true, ups, params)
	keys := diffKeys()[:60]
	for _, u := range ups {
		t.Run(u.path, func(t *testing.T) {
			g := d.specFor(t, u, params)
			var fromNginx, fromBunsan []string
			for i, k := range keys {
				a := netip.AddrFrom4([4]byte{192, 0, byte(i * 5), 1})
				fromNginx = append(fromNginx, nginxtest.Get(t, d.client, "http://"+d.nginx+"/"+u.path+"?k="+url.PathEscape(k), "X-Real-IP", a.String()))
				fromBunsan = append(fromBunsan, d.serve(t, g, PickRequest{HashKey: []byte(url.PathEscape(k)), ClientAddr: a}))
			}
			n, b := strings.Join(fromNginx, " "), strings.Join(fromBunsan, " ")
			if n != b {
				t.Errorf("answers differ:\nnginx  %s\nbunsan %s", n, b)
			}
			t.Logf("%s: %s", u.path, n)
		})
	}
}
