package metrics

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"bunsan/internal/testutil/nginxtest"
	"bunsan/internal/upstream"
)

func TestPrometheusScrape(t *testing.T) {
	a, b := newBackendServer(t, "a"), newBackendServer(t, "b")
	b.status.Store(503)
	f := newFront(t, a, b)
	for range 4 {
		get(t, f.URL+"/x")
	}
	fams := scrape(t, f.URL)
	aAddr, bAddr := a.Listener.Addr().String(), b.Listener.Addr().String()
	tests := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"bunsan_http_requests_total", nil, 5}, // the scrape counts itself, as nginx's stub_status does
		{"bunsan_connections_accepted_total", nil, 1},
		{"bunsan_connections", map[string]string{"state": "writing"}, 1},
		{"bunsan_server_zone_requests_total", map[string]string{"zone": "site"}, 4},
		{"bunsan_server_zone_responses_total", map[string]string{"zone": "site", "code": "2xx"}, 2},
		{"bunsan_server_zone_responses_total", map[string]string{"zone": "site", "code": "5xx"}, 2},
		{"bunsan_server_zone_sent_bytes_total", map[string]string{"zone": "site"}, 4},
		{"bunsan_upstream_server_requests_total", map[string]string{"upstream": "app", "server": aAddr}, 2},
		{"bunsan_upstream_server_responses_total", map[string]string{"server": bAddr, "code": "5xx"}, 2},
		{"bunsan_upstream_server_responses_total", map[string]string{"server": aAddr, "code": "5xx"}, 0},
		{"bunsan_upstream_server_received_bytes_total", map[string]string{"server": aAddr}, 2},
		{"bunsan_upstream_server_state", map[string]string{"server": aAddr, "state": "up"}, 1},
		{"bunsan_upstream_server_state", map[string]string{"server": aAddr, "state": "down"}, 0},
		{"bunsan_upstream_server_weight", map[string]string{"server": bAddr, "protocol": "http"}, 1},
	}
	for _, tt := range tests {
		if got, _ := value(t, fams, tt.name, tt.labels); got != tt.want {
			t.Errorf("%s%v = %v, want %v", tt.name, tt.labels, got, tt.want)
		}
	}
	for _, h := range []string{"connect", "header", "response"} {
		_, m := value(t, fams, "bunsan_upstream_server_"+h+"_duration_seconds", map[string]string{"server": aAddr})
		// A reused backend connection has no connect time to observe.
		want := uint64(2)
		if h == "connect" {
			want = min(m.Histogram.GetSampleCount(), 2)
		}
		if m.Histogram == nil || m.Histogram.GetSampleCount() != want || want == 0 || m.Histogram.GetSampleSum() <= 0 {
			t.Errorf("%s histogram of a: %v", h, m.Histogram)
		}
	}
	// Label names follow Prometheus conventions and stay bounded: no
	// per-URL or per-client label anywhere.
	allowed := map[string]bool{"state": true, "zone": true, "code": true, "protocol": true, "upstream": true, "server": true, "le": true}
	for name, fam := range fams {
		for _, m := range fam.Metric {
			for _, l := range m.Label {
				if !allowed[l.GetName()] {
					t.Errorf("%s has label %q", name, l.GetName())
				}
			}
		}
	}
}

// Servers that leave the group leave the output.
func TestScrapeFollowsGroup(t *testing.T) {
	a := newBackendServer(t, "a")
	f := newFront(t, a)
	get(t, f.URL+"/")
	f.m.opt.HTTP = func() []*upstream.Group { return nil }
	fams := scrape(t, f.URL)
	if fams["bunsan_upstream_server_requests_total"] != nil || fams["bunsan_upstream_server_response_duration_seconds"] != nil {
		t.Error("a removed group still shows")
	}
}

// stubFigures reads the numbers of a stub_status page.
var stubShape = regexp.MustCompile(`^Active connections: (\d+) \nserver accepts handled requests\n (\d+) (\d+) (\d+) \nReading: (\d+) Writing: (\d+) Waiting: (\d+) \n$`)

func TestStubStatusCounts(t *testing.T) {
	f := newFront(t, newBackendServer(t, "a"))
	one := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1}}
	two := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1}}
	fetch := func(c *http.Client, path string) string {
		resp, err := c.Get(f.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return string(body)
	}
	for range 3 {
		fetch(one, "/x")
		<-f.idle
	}
	want := "Active connections: 1 \nserver accepts handled requests\n 1 1 4 \nReading: 0 Writing: 1 Waiting: 0 \n"
	if got := fetch(one, "/basic_status"); got != want {
		t.Errorf("one connection:\n%q\nwant\n%q", got, want)
	}
	<-f.idle
	fetch(two, "/x")
	<-f.idle // the second connection now waits for its next request
	want = "Active connections: 2 \nserver accepts handled requests\n 2 2 6 \nReading: 0 Writing: 1 Waiting: 1 \n"
	if got := fetch(one, "/basic_status"); got != want {
		t.Errorf("two connections:\n%q\nwant\n%q", got, want)
	}
	resp, err := http.Post(f.URL+"/basic_status", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 {
		t.Errorf("POST: %d, want 405 as nginx", resp.StatusCode)
	}
}

// The same requests through nginx 1.22's stub_status give the same page
// (accepts differ only by nginx's start-up probe connection).
func TestStubStatusMatchesNginx(t *testing.T) {
	addr := nginxtest.FreeAddr(t)
	nginxtest.Start(t, nginxtest.Config{
		HTTP: "server { listen " + addr + "; location / { return 200 ok; } location = /basic_status { stub_status; } }",
		Wait: []string{addr},
	})
	f := newFront(t, newBackendServer(t, "a"))
	page := func(base string) (string, http.Header) {
		c := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1}}
		defer c.CloseIdleConnections()
		for range 3 {
			resp, err := c.Get(base + "/x")
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		resp, err := c.Get(base + "/basic_status")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b), resp.Header
	}
	ng, ngH := page("http://" + addr)
	bs, bsH := page(f.URL)
	n, b := stubShape.FindStringSubmatch(ng), stubShape.FindStringSubmatch(bs)
	if n == nil || b == nil {
		t.Fatalf("shape differs:\nnginx  %q\nbunsan %q", ng, bs)
	}
	// active, requests, reading, writing, waiting
	for _, i := range []int{1, 4, 5, 6, 7} {
		if n[i] != b[i] {
			t.Errorf("field %d: nginx %s, bunsan %s\nnginx  %q\nbunsan %q", i, n[i], b[i], ng, bs)
		}
	}
	if b[2] != b[3] || n[2] != n[3] {
		t.Errorf("accepts and handled differ: %q %q", ng, bs)
	}
	if ngH.Get("Content-Type") != bsH.Get("Content-Type") {
		t.Errorf("Content-Type: nginx %q, bunsan %q", ngH.Get("Content-Type"), bsH.Get("Content-Type"))
	}
}

func TestPlusStatus(t *testing.T) {
	f := newFront(t, newBackendServer(t, "a"))
	get(t, f.URL+"/x")
	get(t, f.URL+"/x")
	f.m.Loaded()
	tests := []struct {
		path   string
		status int
		check  func(map[string]any) string
	}{
		{"/api/9/nginx", 200, func(v map[string]any) string {
			if v["generation"] != 1.0 || v["address"] != "127.0.0.1" || v["pid"] == 0.0 {
				return "generation, address or pid"
			}
			if _, err := time.Parse(time.RFC3339Nano, v["load_timestamp"].(string)); err != nil {
				return err.Error()
			}
			return ""
		}},
		{"/api/9/connections", 200, func(v map[string]any) string {
			if v["accepted"].(float64) < 1 || v["dropped"] != 0.0 || v["active"] != 1.0 {
				return "counts"
			}
			return ""
		}},
		{"/api/9/http/requests", 200, func(v map[string]any) string {
			// two proxied, two status requests before, and this one
			if v["total"] != 5.0 || v["current"] != 1.0 {
				return "counts"
			}
			return ""
		}},
		{"/api/9/http/server_zones", 200, func(v map[string]any) string {
			z, _ := v["site"].(map[string]any)
			r, _ := z["responses"].(map[string]any)
			codes, _ := r["codes"].(map[string]any)
			if z["requests"] != 2.0 || r["2xx"] != 2.0 || r["total"] != 2.0 || codes["200"] != 2.0 || z["sent"] != 2.0 {
				return "zone figures"
			}
			return ""
		}},
		{"/api/9/http/server_zones/site", 200, func(v map[string]any) string {
			if v["requests"] != 2.0 {
				return "requests"
			}
			return ""
		}},
		{"/api/9/http/server_zones/nope", 404, func(v map[string]any) string {
			if e, _ := v["error"].(map[string]any); e["code"] != "ServerZoneNotFound" {
				return "error code"
			}
			return ""
		}},
	}
	for _, tt := range tests {
		resp, err := http.Get(f.URL + tt.path)
		if err != nil {
			t.Fatal(err)
		}
		var v map[string]any
		err = json.NewDecoder(resp.Body).Decode(&v)
		resp.Body.Close()
		if err != nil || resp.StatusCode != tt.status || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s: %d %v", tt.path, resp.StatusCode, err)
			continue
		}
		if msg := tt.check(v); msg != "" {
			t.Errorf("%s: %s wrong in %v", tt.path, msg, v)
		}
	}
}

// The request path allocates nothing: zone, peer and connection counts.
func TestHotPathAllocs(t *testing.T) {
	m := New(Options{})
	z := m.Zone("z")
	m.Peer(false, "g", "127.0.0.1:1")
	r, _ := http.NewRequest("GET", "/", nil)
	n := testing.AllocsPerRun(100, func() {
		cs := m.Conns().Begin(r)
		z.Begin()
		m.Peer(false, "g", "127.0.0.1:1").Observe(10, 20, time.Millisecond, 2*time.Millisecond, 3*time.Millisecond)
		z.End(200, 10, 20)
		m.Conns().End(cs)
	})
	if n != 0 {
		t.Errorf("%v allocations per request", n)
	}
}

func TestEndpointHandler(t *testing.T) {
	m := New(Options{})
	for _, kind := range []string{"stub_status", "prometheus"} {
		if m.EndpointHandler(kind) == nil {
			t.Errorf("no handler for %s", kind)
		}
	}
	if m.EndpointHandler("") != nil {
		t.Error("a handler for no endpoint")
	}
}

// BenchmarkRequest is the metrics cost of one proxied request.
func BenchmarkRequest(b *testing.B) {
	m := New(Options{})
	z := m.Zone("z")
	r, _ := http.NewRequest("GET", "/", nil)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			cs := m.Conns().Begin(r)
			z.Begin()
			m.Peer(false, "g", "127.0.0.1:1").Observe(10, 20, time.Millisecond, 2*time.Millisecond, 3*time.Millisecond)
			z.End(200, 10, 20)
			m.Conns().End(cs)
		}
	})
}

func TestLatency(t *testing.T) {
	m := New(Options{})
	if _, _, ok := m.Latency(false, "g", "a"); ok {
		t.Error("latency of an unknown server")
	}
	m.Peer(false, "g", "a").Observe(0, 0, 0, 0, 100*time.Millisecond)
	m.Peer(false, "g", "a").Observe(0, 0, 0, 0, 300*time.Millisecond)
	n, total, ok := m.Latency(false, "g", "a")
	if !ok || n != 2 || total != 400*time.Millisecond {
		t.Errorf("latency %d %v %v", n, total, ok)
	}
}

func TestWrapAPI(t *testing.T) {
	m := New(Options{})
	m.Zone("site").Begin()
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "api "+r.URL.Path) })
	srv := httptest.NewServer(m.WrapAPI("/api", next))
	defer srv.Close()
	tests := []struct{ path, want string }{
		{"/api/9/nginx", `"build":"bunsan"`},
		{"/api/8/connections", `"accepted":`},
		{"/api/9/http/requests", `"total":`},
		{"/api/9/http/server_zones/site", `"processing":1`},
		{"/api/9/http/upstreams", "api /api/9/http/upstreams"},
		{"/api/9", "api /api/9"},
		{"/api/", "api /api/"},
		{"/other/9/nginx", "api /other/9/nginx"},
	}
	for _, tt := range tests {
		if _, body := get(t, srv.URL+tt.path); !strings.Contains(body, tt.want) {
			t.Errorf("%s: %q, want %q", tt.path, body, tt.want)
		}
	}
}
