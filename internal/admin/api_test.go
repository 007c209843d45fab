package admin

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"bunsan/internal/config"
	"bunsan/internal/upstream"
)

// fixture is an API over groups built from configuration text, as the
// running server builds them: config.Load, then a Store.
type fixture struct {
	t      *testing.T
	dir    string
	store  *upstream.Store
	groups []*upstream.Group
	api    http.Handler
}

const testConf = `http {
    upstream backend {
        zone backend 64k;
        server 127.0.0.1:8081 weight=2;
        server 127.0.0.1:8082 max_fails=3 fail_timeout=30s;
        server 127.0.0.1:8083 backup;
    }
    upstream hashed {
        hash $request_uri consistent;
        server 10.0.0.1:80;
        server 10.0.0.2:80;
    }
    server {
        listen 8080;
        location /api { api write=on; }
    }
}`

func newFixture(t *testing.T, conf string, files map[string]string) *fixture {
	t.Helper()
	f := &fixture{t: t, dir: t.TempDir(), store: upstream.NewStore(nil)}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(f.dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	f.load(conf)
	return f
}

// load (re)loads conf as a reload does: a new model, groups built from
// the same Store.
func (f *fixture) load(conf string) *config.Model {
	f.t.Helper()
	file := filepath.Join(f.dir, "bunsan.conf")
	if err := os.WriteFile(file, []byte(conf), 0o600); err != nil {
		f.t.Fatal(err)
	}
	m, _, err := config.Load(config.Options{Prefix: f.dir + "/", File: file})
	if err != nil {
		f.t.Fatal(err)
	}
	var groups []*upstream.Group
	for _, spec := range m.HTTP.Upstreams {
		g, err := f.store.Build(*spec)
		if err != nil {
			f.t.Fatal(err)
		}
		groups = append(groups, g)
	}
	f.groups = groups
	srv := m.HTTP.Servers[0]
	loc := srv.Locations[0]
	f.api = New(loc.API, Options{
		HTTP: func() []*upstream.Group { return f.groups },
		Auth: m.BasicAuth(srv, loc),
	})
	return m
}

func (f *fixture) group(name string) *upstream.Group {
	for _, g := range f.groups {
		if g.Name() == name {
			return g
		}
	}
	f.t.Fatalf("no group %q", name)
	return nil
}

// do sends one request to the API and returns the status and the body.
func (f *fixture) do(method, path, body string) (int, string) {
	f.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, path, rd)
	w := httptest.NewRecorder()
	f.api.ServeHTTP(w, r)
	if ct := w.Header().Get("Content-Type"); w.Code != http.StatusUnauthorized && w.Code != http.StatusNoContent && ct != "application/json" {
		f.t.Errorf("%s %s: Content-Type %q", method, path, ct)
	}
	return w.Code, w.Body.String()
}

var requestIDRe = regexp.MustCompile(`"request_id":"[0-9a-f]{32}"`)

// TestAPISequence walks the endpoints as a deploy tool would, each step
// seeing the effect of the ones before.
func TestAPISequence(t *testing.T) {
	f := newFixture(t, testConf, nil)
	steps := []struct {
		method, path, body string
		status             int
		want               string // the body, request_id masked; "~x" means it contains x
	}{
		{"GET", "/api/", "", 200, "[1,2,3,4,5,6,7,8,9]"},
		{"GET", "/api/9", "", 200, `["http","stream"]`},
		{"GET", "/api/9/http", "", 200, `["upstreams"]`},
		{"GET", "/api/10/http/upstreams", "", 404, `{"error":{"status":404,"text":"unknown version","code":"UnknownVersion"},"request_id":"ID","href":"https://nginx.org/en/docs/http/ngx_http_api_module.html"}`},
		{"GET", "/api/9/nginx", "", 404, `~"code":"PathNotFound"`},
		{"GET", "/api/9/http/upstreams/nope/servers", "", 404, `{"error":{"status":404,"text":"upstream not found","code":"UpstreamNotFound"},"request_id":"ID","href":"https://nginx.org/en/docs/http/ngx_http_api_module.html"}`},
		{"GET", "/api/9/http/upstreams/backend/servers", "", 200, `[` +
			`{"id":0,"server":"127.0.0.1:8081","weight":2,"max_conns":0,"max_fails":1,"fail_timeout":"10s","slow_start":"0s","route":"","backup":false,"down":false},` +
			`{"id":1,"server":"127.0.0.1:8082","weight":1,"max_conns":0,"max_fails":3,"fail_timeout":"30s","slow_start":"0s","route":"","backup":false,"down":false},` +
			`{"id":2,"server":"127.0.0.1:8083","weight":1,"max_conns":0,"max_fails":1,"fail_timeout":"10s","slow_start":"0s","route":"","backup":true,"down":false}]`},
		{"GET", "/api/9/http/upstreams/backend/servers/1", "", 200, `{"id":1,"server":"127.0.0.1:8082","weight":1,"max_conns":0,"max_fails":3,"fail_timeout":"30s","slow_start":"0s","route":"","backup":false,"down":false}`},
		{"GET", "/api/9/http/upstreams/backend/servers/9", "", 404, `~"code":"UpstreamServerNotFound"`},
		{"GET", "/api/9/http/upstreams/backend/servers/x", "", 400, `~"code":"UpstreamBadServerId"`},
		{"POST", "/api/9/http/upstreams/backend/servers", `{"server":"127.0.0.1:8084","weight":4,"slow_start":"30s","max_conns":10}`, 201,
			`{"id":3,"server":"127.0.0.1:8084","weight":4,"max_conns":10,"max_fails":1,"fail_timeout":"10s","slow_start":"30s","route":"","backup":false,"down":false}`},
		{"POST", "/api/9/http/upstreams/backend/servers", `{"server":"127.0.0.1:8084"}`, 409, `~"code":"EntryExists"`},
		{"POST", "/api/9/http/upstreams/backend/servers", `{"server":"127.0.0.1:8085","weight":0}`, 400, `~"code":"UpstreamBadWeight"`},
		{"POST", "/api/9/http/upstreams/backend/servers", `{"server":"127.0.0.1:8085","fail_timeout":"soon"}`, 400, `~"code":"UpstreamBadFailTimeout"`},
		{"POST", "/api/9/http/upstreams/backend/servers", `{"server":"127.0.0.1:8085","colour":"red"}`, 400, `~"text":"unknown parameter \"colour\"","code":"UpstreamConfFormatError"`},
		{"POST", "/api/9/http/upstreams/backend/servers", `{"weight":2}`, 400, `~"code":"UpstreamConfFormatError"`},
		{"POST", "/api/9/http/upstreams/backend/servers", `{"server":"http://x"}`, 400, `~"code":"UpstreamBadAddress"`},
		{"POST", "/api/9/http/upstreams/backend/servers", `{"server":`, 415, `~"code":"JsonError"`},
		{"POST", "/api/9/http/upstreams/hashed/servers", `{"server":"10.0.0.3","backup":true}`, 400, `~"code":"UpstreamBackupNotAllowed"`},
		{"POST", "/api/9/http/upstreams/hashed/servers", `{"server":"10.0.0.3"}`, 201, `~"id":2,"server":"10.0.0.3:80"`},
		{"PATCH", "/api/9/http/upstreams/backend/servers/0", `{"drain":true,"weight":5}`, 200,
			`{"id":0,"server":"127.0.0.1:8081","weight":5,"max_conns":0,"max_fails":1,"fail_timeout":"10s","slow_start":"0s","route":"","backup":false,"down":false,"drain":true}`},
		{"PATCH", "/api/9/http/upstreams/backend/servers/0", `{"backup":true}`, 400, `~"code":"UpstreamServerImmutable"`},
		{"PATCH", "/api/9/http/upstreams/backend/servers/0", `{"server":"127.0.0.1:9999"}`, 400, `~"code":"UpstreamServerImmutable"`},
		{"PATCH", "/api/9/http/upstreams/backend/servers/1", `{"down":true}`, 200, `~"down":true`},
		{"GET", "/api/9/http/upstreams/backend", "", 200, `~"state":"draining"`},
		{"DELETE", "/api/9/http/upstreams/backend/servers/2", "", 200, `~{"id":3,`},
		{"DELETE", "/api/9/http/upstreams/backend/servers/2", "", 404, `~"code":"UpstreamServerNotFound"`},
		{"PUT", "/api/9/http/upstreams/backend/servers", "", 405, `~"code":"MethodNotSupported"`},
		{"DELETE", "/api/9/http/upstreams/backend", "", 204, ""},
		{"GET", "/api/9/http/upstreams/backend", "", 200, `~"zombies":0`},
		{"GET", "/api/9/stream/upstreams", "", 200, `{}`},
	}
	for _, s := range steps {
		status, body := f.do(s.method, s.path, s.body)
		body = strings.TrimSpace(requestIDRe.ReplaceAllString(body, `"request_id":"ID"`))
		ok := body == s.want
		if c, found := strings.CutPrefix(s.want, "~"); found {
			ok = strings.Contains(body, c)
		}
		if status != s.status || !ok {
			t.Fatalf("%s %s %s: %d %s\nwant %d %s", s.method, s.path, s.body, status, body, s.status, s.want)
		}
	}
}

func TestAPIReadOnly(t *testing.T) {
	f := newFixture(t, strings.Replace(testConf, "api write=on;", "api;", 1), nil)
	for _, m := range []string{"POST", "PATCH", "DELETE", "PUT"} {
		status, body := f.do(m, "/api/9/http/upstreams/backend/servers/0", `{"down":true}`)
		if status != 405 || !strings.Contains(body, `"code":"MethodDisabled"`) {
			t.Errorf("%s: %d %s", m, status, body)
		}
	}
	if status, _ := f.do("GET", "/api/9/http/upstreams/backend/servers/0", ""); status != 200 {
		t.Errorf("GET on a read-only API: %d", status)
	}
}

// TestAPILiveFigures: what the data path reports shows up in GET.
func TestAPILiveFigures(t *testing.T) {
	f := newFixture(t, testConf, nil)
	g := f.group("backend")
	var held *upstream.Peer
	for i := range 3 {
		p, err := g.Pick(&upstream.PickRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			held = p // stays active
			continue
		}
		g.Done(p, upstream.Outcome{Result: upstream.Success, Status: 200 + 300*(i-1)}) // a 200 and a 500
	}
	_, body := f.do("GET", "/api/9/http/upstreams", "")
	var out map[string]Upstream
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatal(err)
	}
	u, ok := out["backend"]
	if !ok || u.Zone != "backend" || len(u.Peers) != 3 || len(out) != 2 {
		t.Fatalf("upstreams %s", body)
	}
	var active int64
	var requests, c2, c5 uint64
	for _, p := range u.Peers {
		active += p.Active
		requests += *p.Requests
		c2 += p.Responses.C2xx
		c5 += p.Responses.C5xx
		if p.ID == held.ID() && p.Selected == "" {
			t.Errorf("selected time missing: %+v", p)
		}
		if p.State != "up" || p.Name != p.Server {
			t.Errorf("peer %+v", p)
		}
	}
	if active != 1 || requests != 3 || c2 != 1 || c5 != 1 {
		t.Fatalf("active %d requests %d 2xx %d 5xx %d in %s", active, requests, c2, c5, body)
	}
	g.Done(held, upstream.Outcome{Result: upstream.Aborted})
}

func TestAPIBasicAuth(t *testing.T) {
	conf := strings.Replace(testConf, "location /api { api write=on; }",
		`location /api { api write=on; auth_basic "bunsan API"; auth_basic_user_file users; }`, 1)
	f := newFixture(t, conf, map[string]string{"users": "ops:$apr1$x1$hES3g.N1ayPmiFRhcskH//\n"})
	tests := []struct {
		user, pass string
		status     int
	}{
		{"", "", 401},
		{"ops", "wrong", 401},
		{"ops", "correct horse", 200},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/api/9/http/upstreams", nil)
		if tt.user != "" {
			r.SetBasicAuth(tt.user, tt.pass)
		}
		w := httptest.NewRecorder()
		f.api.ServeHTTP(w, r)
		if w.Code != tt.status {
			t.Errorf("%s/%s: %d, want %d", tt.user, tt.pass, w.Code, tt.status)
		}
		if w.Code == 401 && w.Header().Get("WWW-Authenticate") != `Basic realm="bunsan API"` {
			t.Errorf("challenge %q", w.Header().Get("WWW-Authenticate"))
		}
	}
}

// TestAPIStateFile: changes are written to the state file, and a reload
// (or a restart: a fresh Store) reads them back.
func TestAPIStateFile(t *testing.T) {
	conf := `http {
    upstream app { zone app 64k; state app.state; }
    server { listen 8080; location /api/ { api write=on; } }
}`
	f := newFixture(t, conf, map[string]string{"app.state": "server 127.0.0.1:9001;\n"})
	if status, body := f.do("POST", "/api/9/http/upstreams/app/servers", `{"server":"127.0.0.1:9002","weight":3}`); status != 201 {
		t.Fatalf("%d %s", status, body)
	}
	if status, body := f.do("PATCH", "/api/9/http/upstreams/app/servers/0", `{"down":true}`); status != 200 {
		t.Fatalf("%d %s", status, body)
	}
	b, err := os.ReadFile(filepath.Join(f.dir, "app.state"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(string(b), "server 127.0.0.1:9001 down;\nserver 127.0.0.1:9002 weight=3;\n") {
		t.Fatalf("state file:\n%s", b)
	}
	want := `[{"id":0,"server":"127.0.0.1:9001","weight":1,"max_conns":0,"max_fails":1,"fail_timeout":"10s","slow_start":"0s","route":"","backup":false,"down":true},` +
		`{"id":1,"server":"127.0.0.1:9002","weight":3,"max_conns":0,"max_fails":1,"fail_timeout":"10s","slow_start":"0s","route":"","backup":false,"down":false}]`
	f.load(conf) // reload: same Store
	if _, body := f.do("GET", "/api/9/http/upstreams/app/servers", ""); strings.TrimSpace(body) != want {
		t.Fatalf("after reload\n%s\nwant\n%s", body, want)
	}
	f.store = upstream.NewStore(nil) // restart
	f.load(conf)
	if _, body := f.do("GET", "/api/9/http/upstreams/app/servers", ""); strings.TrimSpace(body) != want {
		t.Fatalf("after restart\n%s\nwant\n%s", body, want)
	}
}

func TestParseTime(t *testing.T) {
	tests := []struct {
		in   string
		want string
		bad  bool
	}{
		{"10", "10s", false}, {"10s", "10s", false}, {"500ms", "500ms", false}, {"1m30s", "1m30s", false},
		{"2h", "2h0m0s", false}, {"1d", "24h0m0s", false}, {"", "", true}, {"s", "", true}, {"5x", "", true}, {"-1", "", true},
	}
	for _, tt := range tests {
		d, err := ParseTime(tt.in)
		if (err != nil) != tt.bad || (!tt.bad && d.String() != tt.want) {
			t.Errorf("ParseTime(%q) = %v, %v", tt.in, d, err)
		}
	}
}

func TestAPIRegexLocation(t *testing.T) {
	h := &handler{cfg: config.API{}}
	tests := map[string]string{
		"/api/9/http/upstreams": "9 http upstreams",
		"/x/y/9/http":           "9 http",
		"/api":                  "",
		"/api/":                 "",
	}
	for path, want := range tests {
		if got := strings.Join(h.segments(path), " "); got != want {
			t.Errorf("segments(%q) = %q, want %q", path, got, want)
		}
	}
}

// fakeHealth stands in for the health checker.
type fakeHealth struct {
	status map[string]HealthStatus // by address
	synced []string
}

func (h *fakeHealth) Status(stream bool, group, addr string) (HealthStatus, bool) {
	st, ok := h.status[addr]
	return st, ok
}

func (h *fakeHealth) Sync(stream bool, group string) { h.synced = append(h.synced, group) }

func TestAPIHealthAndPlus(t *testing.T) {
	f := newFixture(t, testConf, nil)
	hc := &fakeHealth{status: map[string]HealthStatus{
		"127.0.0.1:8081": {Checks: 7, Fails: 2, Unhealthy: 1, LastPassed: true},
		"127.0.0.1:8082": {Checks: 1, LastPassed: false, Checking: true},
	}}
	var plusPaths []string
	f.api = New(&config.API{Write: true, Prefix: "/api"}, Options{
		HTTP:         func() []*upstream.Group { return f.groups },
		HealthStatus: hc.Status,
		HealthSync:   hc.Sync,
		Plus: func(w http.ResponseWriter, r *http.Request, segs []string) bool {
			p := strings.Join(segs, "/")
			if p != "nginx" && p != "http/requests" {
				return false
			}
			plusPaths = append(plusPaths, p)
			writeJSON(w, 200, map[string]string{"from": p})
			return true
		},
	})
	tests := []struct {
		method, path, body string
		status             int
		want               string
	}{
		{"GET", "/api/9", "", 200, `["nginx","connections","http","stream"]`},
		{"GET", "/api/9/http", "", 200, `["requests","server_zones","upstreams"]`},
		{"GET", "/api/9/nginx", "", 200, `{"from":"nginx"}`},
		{"GET", "/api/9/http/requests", "", 200, `{"from":"http/requests"}`},
		{"GET", "/api/9/slabs", "", 404, `~"code":"PathNotFound"`},
		{"GET", "/api/9/http/upstreams/backend", "", 200, `~"state":"up","active":0,"requests":0,"responses":{"1xx":0,"2xx":0,"3xx":0,"4xx":0,"5xx":0,"codes":{},"total":0},"sent":0,"received":0,"fails":0,"unavail":0,"health_checks":{"checks":7,"fails":2,"unhealthy":1,"last_passed":true}`},
		{"GET", "/api/9/http/upstreams/backend", "", 200, `~"state":"checking"`},
		{"GET", "/api/9/http/upstreams/hashed", "", 200, `~"health_checks":{"checks":0,"fails":0,"unhealthy":0},`},
		{"POST", "/api/9/http/upstreams/hashed/servers", `{"server":"10.0.0.9:80"}`, 201, `~"id":2`},
	}
	for _, s := range tests {
		status, body := f.do(s.method, s.path, s.body)
		body = strings.TrimSpace(body)
		ok := body == s.want
		if c, found := strings.CutPrefix(s.want, "~"); found {
			ok = strings.Contains(body, c)
		}
		if status != s.status || !ok {
			t.Errorf("%s %s: %d %s\nwant %d %s", s.method, s.path, status, body, s.status, s.want)
		}
	}
	if strings.Join(plusPaths, " ") != "nginx http/requests" {
		t.Errorf("Plus saw %q", plusPaths)
	}
	if strings.Join(hc.synced, " ") != "hashed" {
		t.Errorf("health synced %q", hc.synced)
	}
}

func TestAPIStream(t *testing.T) {
	g, err := upstream.NewStore(nil).Build(upstream.Spec{Name: "db", Servers: []upstream.ServerSpec{
		{Addr: "10.0.0.1:5432", Weight: 1, MaxFails: 1, FailTimeout: 10 * time.Second},
	}})
	if err != nil {
		t.Fatal(err)
	}
	h := New(&config.API{Write: true, Prefix: "/api"}, Options{Stream: func() []*upstream.Group { return []*upstream.Group{g} }})
	tests := []struct {
		method, path, body string
		status             int
		want               string
	}{
		{"GET", "/api/9/stream/upstreams/db", "", 200, `{"peers":[{"id":0,"server":"10.0.0.1:5432","name":"10.0.0.1:5432","backup":false,"weight":1,"state":"up","active":0,"connections":0,"sent":0,"received":0,"fails":0,"unavail":0,"health_checks":{"checks":0,"fails":0,"unhealthy":0},"downtime":0,"bunsan":{"effective_weight":1,"fails_counted":0}}],"keepalive":0,"zombies":0}`},
		{"POST", "/api/9/stream/upstreams/db/servers", `{"server":"10.0.0.2"}`, 400, `~"code":"UpstreamBadAddress"`},
		{"POST", "/api/9/stream/upstreams/db/servers", `{"server":"10.0.0.2:5432","route":"a"}`, 400, `~"code":"UpstreamConfFormatError"`},
		{"POST", "/api/9/stream/upstreams/db/servers", `{"server":"10.0.0.2:5432"}`, 201, `~"id":1`},
		{"GET", "/api/9/http/upstreams", "", 200, `{}`},
	}
	for _, s := range tests {
		w := httptest.NewRecorder()
		var body io.Reader
		if s.body != "" {
			body = strings.NewReader(s.body)
		}
		h.ServeHTTP(w, httptest.NewRequest(s.method, s.path, body))
		got := strings.TrimSpace(w.Body.String())
		ok := got == s.want
		if c, found := strings.CutPrefix(s.want, "~"); found {
			ok = strings.Contains(got, c)
		}
		if w.Code != s.status || !ok {
			t.Errorf("%s %s: %d %s\nwant %d %s", s.method, s.path, w.Code, got, s.status, s.want)
		}
	}
}
