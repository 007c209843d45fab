package httpproxy

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"bunsan/internal/testutil/nginxtest"
)

// The differential suite runs one configuration through real nginx and
// through bunsan, sends both the same bytes, and compares the status,
// the body (which for proxied requests is what the backend saw: which
// server, the URI, Host and the forwarded headers) and chosen response
// headers. Pages nginx generates itself name nginx in their footer, which
// is the one difference allowed.

// echoBackends start n servers that answer with their name and what
// reached them.
func echoBackends(t *testing.T, n int) []string {
	t.Helper()
	var addrs []string
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("b%d", i)
		b := newBackend(t, name, func(w http.ResponseWriter, r *http.Request) {
			hop := []string{}
			for _, h := range []string{"Connection-Named", "Keep-Alive", "Proxy-Connection", "Te", "Upgrade", "Expect"} {
				if r.Header.Get(h) != "" {
					hop = append(hop, h)
				}
			}
			w.Header().Set("X-Backend", name)
			fmt.Fprintf(w, "%s %s %s host=%s xff=%q xri=%q custom=%q hop=%v body=%d",
				name, r.Method, r.RequestURI, r.Host, r.Header.Get("X-Forwarded-For"), r.Header.Get("X-Real-IP"),
				r.Header.Get("X-Custom"), hop, r.ContentLength)
		})
		addrs = append(addrs, b.addr)
	}
	return addrs
}

type diffCase struct {
	name string
	http string // inside http { }: LISTEN, B0, B1, B2 are replaced
	reqs []string
	// headers lists response headers to compare.
	headers []string
}

func TestDifferentialNginx(t *testing.T) {
	nginxtest.Binary(t)
	be := echoBackends(t, 3)
	get := func(target string, hdr ...string) string {
		return "GET " + target + " HTTP/1.1\r\nHost: site.test\r\n" + strings.Join(hdr, "") + "Connection: close\r\n\r\n"
	}
	cases := []diffCase{
		{name: "location precedence", http: `server { listen LISTEN;
			location = /exact { return 200 "exact"; }
			location / { return 200 "root"; }
			location ^~ /static/ { return 200 "static"; }
			location /api/ { return 200 "api"; location /api/v2/ { return 200 "api-v2"; } }
			location ~* \.(png|jpg)$ { return 200 "image"; }
			location ~ ^/static/.*\.css$ { return 200 "css"; }
			location /admin { deny all; proxy_pass http://B0; }
		}`, reqs: []string{get("/exact"), get("/exact/"), get("/static/a.css"), get("/x/a.PNG"), get("/api/v2/x"),
			get("/api/x.png"), get("/admin"), get("/x/../admin"), get("/%61dmin"), get("//admin"), get("/x/%2e%2e/admin"),
			get("/../x"), get("/a/%2e%2e/%2e%2e/x")}},
		{name: "proxy_pass URI", http: `server { listen LISTEN;
			location /raw/ { proxy_pass http://B0; }
			location /strip/ { proxy_pass http://B0/; }
			location /swap/ { proxy_pass http://B0/new/; }
			location ~ ^/re/ { proxy_pass http://B0; }
		}`, reqs: []string{get("/raw/a%20b//c?x=1"), get("/strip/a/b?x=1"), get("/strip//a/./b"), get("/swap/x"), get("/re/a?q")}},
		{name: "headers to backend", http: `upstream app { server B0; }
			server { listen LISTEN;
			location /default { proxy_pass http://app; }
			location /set { proxy_pass http://app; proxy_set_header Host $host; proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
				proxy_set_header X-Real-IP $remote_addr; proxy_set_header X-Custom "$request_method-$arg_a"; }
		}`, reqs: []string{
			get("/default", "X-Forwarded-For: 10.0.0.1\r\n", "Keep-Alive: 1\r\n", "TE: trailers\r\n", "Upgrade: h2c\r\n"),
			get("/set?a=1", "X-Forwarded-For: 10.0.0.1\r\n"),
			"POST /default HTTP/1.1\r\nHost: site.test\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc",
		}},
		{name: "round robin and failover", http: `upstream app { server B0; server B1 weight=2; server DEAD; }
			server { listen LISTEN; location / { proxy_pass http://app; } }`,
			reqs: []string{get("/1"), get("/2"), get("/3"), get("/4"), get("/5"), get("/6"), get("/7"), get("/8")}},
		{name: "virtual servers", http: `
			server { listen LISTEN; server_name first.test; return 200 "first"; }
			server { listen LISTEN default_server; return 200 "default"; }
			server { listen LISTEN; server_name *.example.com; return 200 "wild"; }
			server { listen LISTEN; server_name ~^(?<u>\w+)\.users\.test$; return 200 "user $u"; }`,
			reqs: []string{
				"GET / HTTP/1.1\r\nHost: first.test\r\nConnection: close\r\n\r\n",
				"GET / HTTP/1.1\r\nHost: FIRST.TEST:80\r\nConnection: close\r\n\r\n",
				"GET / HTTP/1.1\r\nHost: other.test\r\nConnection: close\r\n\r\n",
				"GET / HTTP/1.1\r\nHost: a.b.example.com\r\nConnection: close\r\n\r\n",
				"GET / HTTP/1.1\r\nHost: bob.users.test\r\nConnection: close\r\n\r\n",
				"GET / HTTP/1.0\r\n\r\n",
			}},
		{name: "variables, map, set, add_header, error_page", http: `
			map $http_x_kind $kind { default other; ~^img image; text text; }
			server { listen LISTEN;
			location /vars { set $v "s-$arg_a"; add_header X-Kind $kind; return 200 "$request_method $uri $args $is_args $v $kind $cookie_c $http_x_h"; }
			location /named { error_page 502 @fb; proxy_pass http://DEAD; }
			location @fb { return 200 "fallback"; }
			location /err { add_header X-Always a always; add_header X-Only o; return 404; }
		}`, reqs: []string{get("/vars?a=1&b=2", "X-Kind: image/png\r\n", "Cookie: a=1; c=3\r\n", "X-H: h\r\n"), get("/vars", "X-Kind: TEXT\r\n"),
			get("/named"), get("/err")}, headers: []string{"X-Kind", "X-Always", "X-Only"}},
		{name: "malformed requests", http: `server { listen LISTEN; location / { proxy_pass http://B0; } }`, reqs: []string{
			"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
			"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
			"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\na",
			"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n",
			"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n",
			"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n",
			"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n\r\n",
			"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
			"GET / HTTP/2.0\r\nHost: a\r\n\r\n",
			"GET /" + strings.Repeat("a", 9000) + " HTTP/1.1\r\nHost: a\r\n\r\n",
		}},
	}
	cases = append(cases,
		diffCase{name: "failures, limits and if", http: `upstream gone { server DEAD; }
			server { listen LISTEN; client_max_body_size 10;
			location /gone { proxy_pass http://gone; }
			location /fixed { proxy_pass http://DEAD; }
			location /body { proxy_pass http://B0; }
			location /if { if ($request_method = POST) { return 405; } if ($http_x_a = "") { return 200 "empty"; } return 200 "set"; }
		}`, reqs: []string{get("/gone"), get("/fixed"),
			"POST /body HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\nConnection: close\r\n\r\n01234567890",
			"POST /body HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\nConnection: close\r\n\r\n0123456789",
			"POST /if HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
			get("/if"), get("/if", "X-A: 1\r\n")}},
		diffCase{name: "server-level return before locations", http: `server { listen LISTEN;
			set $t https://secure.test; return 301 $t$request_uri; location / { proxy_pass http://B0; } }`,
			reqs: []string{get("/x?y=1"), get("/")}, headers: []string{"Location"}},
		diffCase{name: "hash by URI", http: `upstream app { hash $request_uri consistent; server B0; server B1; server B2; }
			server { listen LISTEN; location / { proxy_pass http://app; } }`,
			reqs: []string{get("/a"), get("/b"), get("/c"), get("/d"), get("/e"), get("/a"), get("/f?x=1"), get("/g")}},
	)
	dead := deadAddr(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			na := nginxtest.FreeAddr(t)
			fill := func(s, listen string) string {
				r := strings.NewReplacer("LISTEN", listen, "B0", be[0], "B1", be[1], "B2", be[2], "DEAD", dead)
				return r.Replace(s)
			}
			nginxtest.Start(t, nginxtest.Config{HTTP: fill(tc.http, na), Wait: []string{na}})
			bp := startProxy(t, "http { access_log off; "+fill(tc.http, "LISTEN")+" }")
			for i, req := range tc.reqs {
				want := exchange(t, na, req)
				got := exchange(t, bp.addr, req)
				if want.status != got.status || footer.ReplaceAllString(want.body, "bunsan") != got.body {
					t.Errorf("request %d %q:\nnginx:  %d %q\nbunsan: %d %q", i, abbreviate(req), want.status, want.body, got.status, got.body)
				}
				for _, h := range tc.headers {
					if want.header.Get(h) != got.header.Get(h) {
						t.Errorf("request %d %q: header %s nginx %q, bunsan %q", i, abbreviate(req), h, want.header.Get(h), got.header.Get(h))
					}
				}
			}
		})
	}
}

var footer = regexp.MustCompile(`nginx/[0-9.]+`)

type answer struct {
	status int
	body   string
	header http.Header
}

// exchange sends req on a fresh connection and reads one response; a
// connection closed without a response counts as status 0.
func exchange(t *testing.T, addr, req string) answer {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, req)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return answer{}
	}
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, string(b), resp.Header}
}

func abbreviate(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
