package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"bunsan/internal/admin"
	"bunsan/internal/config"
	"bunsan/internal/upstream"
)

// apiServer runs the real API handler over groups built from conf, on a
// loopback test server.
func apiServer(t *testing.T, conf string) (*httptest.Server, map[string]*upstream.Group) {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "bunsan.conf")
	if err := os.WriteFile(file, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	m, _, err := config.Load(config.Options{Prefix: dir + "/", File: file})
	if err != nil {
		t.Fatal(err)
	}
	store := upstream.NewStore(nil)
	groups := map[string]*upstream.Group{}
	var list []*upstream.Group
	for _, spec := range m.HTTP.Upstreams {
		g, err := store.Build(*spec)
		if err != nil {
			t.Fatal(err)
		}
		groups[spec.Name] = g
		list = append(list, g)
	}
	loc := m.HTTP.Servers[0].Locations[0]
	srv := httptest.NewServer(admin.New(loc.API, admin.Options{HTTP: func() []*upstream.Group { return list }}))
	t.Cleanup(srv.Close)
	return srv, groups
}

const ctlConf = `http {
    upstream app {
        server 127.0.0.1:8081;
        server 127.0.0.1:8082 weight=2;
    }
    server { listen 8080; location /api { api write=on; } }
}`

// runCtlAt runs ctl against srv with the given ticks and deadline.
func runCtlAt(t *testing.T, srv *httptest.Server, tick, deadline chan time.Time, args ...string) (int, string, string) {
	t.Helper()
	o, err := parseCtl(append([]string{"-api", srv.URL + "/api"}, args...))
	if err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	c := &ctl{o: o, client: srv.Client(), stdout: &out, stderr: &errb, tick: tick, deadline: deadline}
	code := c.run()
	return code, out.String(), errb.String()
}

func TestCtlCommands(t *testing.T) {
	srv, groups := apiServer(t, ctlConf)
	app := groups["app"]
	steps := []struct {
		args []string
		code int
		out  string // contained in stdout (or stderr when code != 0)
	}{
		{[]string{"servers", "app"}, 0, "1   127.0.0.1:8082  2       up"},
		{[]string{"weight", "app", "127.0.0.1:8081", "5"}, 0, "app 127.0.0.1:8081 (id 0): weight 5"},
		{[]string{"add", "app", "127.0.0.1:8083", "weight=3", "slow_start=10s", "backup"}, 0, "app 127.0.0.1:8083 (id 2): added"},
		{[]string{"add", "app", "127.0.0.1:8083"}, 1, "409 EntryExists"},
		{[]string{"add", "app", "127.0.0.1:8084", "colour=red"}, 1, `unknown server parameter "colour=red"`},
		{[]string{"drain", "app", "1"}, 0, "app 127.0.0.1:8082 (id 1): draining"},
		{[]string{"servers", "app"}, 0, "draining"},
		{[]string{"enable", "app", "1"}, 0, "enabled"},
		{[]string{"down", "app", "127.0.0.1:8082"}, 0, "down"},
		{[]string{"remove", "app", "2"}, 0, "app 127.0.0.1:8083 (id 2): removed"},
		{[]string{"remove", "app", "2"}, 1, `upstream "app" has no server "2"`},
		{[]string{"servers", "nope"}, 1, "404 UpstreamNotFound: upstream not found"},
		{[]string{"weight", "app", "0", "zero"}, 2, "want a whole number"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"drain", "app"}, 2, "usage: bunsan ctl drain GROUP SERVER"},
	}
	for _, s := range steps {
		code, out, errs := runCtlAt(t, srv, nil, nil, s.args...)
		got := out
		if s.code != 0 {
			got = errs
		}
		if code != s.code || !strings.Contains(got, s.out) {
			t.Fatalf("ctl %v: %d\nstdout: %s\nstderr: %s\nwant %d and %q", s.args, code, out, errs, s.code, s.out)
		}
	}
	c0, _ := app.ServerConf(0)
	c1, _ := app.ServerConf(1)
	if c0.Weight != 5 || !c1.Down || c1.Drain || app.PeerByID(2) != nil {
		t.Fatalf("group after ctl: %+v %+v", c0, c1)
	}
}

// TestCtlDrainWait: drain -wait returns once the server's last request
// ends; the test drives the polls, so nothing depends on timing.
func TestCtlDrainWait(t *testing.T) {
	srv, groups := apiServer(t, ctlConf)
	app := groups["app"]
	held := pickAddr(t, app, "127.0.0.1:8081")
	tick := make(chan time.Time)
	done := make(chan int)
	var out string
	go func() {
		code, o, _ := runCtlAt(t, srv, tick, make(chan time.Time), "drain", "app", "127.0.0.1:8081", "--wait")
		out = o
		done <- code
	}()
	// ctl waits for a tick only after a poll that saw the held request:
	// once it took one tick, it has seen it.
	select {
	case tick <- time.Now():
	case code := <-done:
		t.Fatalf("drain returned %d with a request in flight", code)
	}
	app.Done(held, upstream.Outcome{Result: upstream.Success})
	var code int
	for i := 0; i < 100; i++ { // bounded: each round is one poll
		select {
		case tick <- time.Now():
			continue
		case code = <-done:
		}
		break
	}
	if code != 0 || !strings.Contains(out, "drained, no active connections") {
		t.Fatalf("drain -wait: %d %q", code, out)
	}
	if p := app.Peer("127.0.0.1:8081"); !p.Draining() {
		t.Fatal("server not draining")
	}
}

func TestCtlDrainTimeout(t *testing.T) {
	srv, groups := apiServer(t, ctlConf)
	app := groups["app"]
	held := pickAddr(t, app, "127.0.0.1:8082")
	defer app.Done(held, upstream.Outcome{})
	deadline := make(chan time.Time)
	close(deadline) // the deadline has passed at the first wait
	code, _, errs := runCtlAt(t, srv, make(chan time.Time), deadline, "drain", "app", "1", "-wait", "-timeout", "2s")
	if code != 1 || !strings.Contains(errs, "still has 1 active after 2s") {
		t.Fatalf("%d %q", code, errs)
	}
}

// pickAddr picks until the group hands out addr, holding it; the other
// picks are released. Bounded by the group's size.
func pickAddr(t *testing.T, g *upstream.Group, addr string) *upstream.Peer {
	t.Helper()
	for range 10 {
		p, err := g.Pick(&upstream.PickRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if p.Addr() == addr {
			return p
		}
		g.Done(p, upstream.Outcome{Result: upstream.Success})
	}
	t.Fatalf("%s never picked", addr)
	return nil
}

func TestParseCtl(t *testing.T) {
	o, err := parseCtl([]string{"drain", "-api=http://h:1/api/", "app", "--wait", "1", "-timeout", "30s", "-user", "a:b", "-stream"})
	if err != nil {
		t.Fatal(err)
	}
	if o.api != "http://h:1/api" || !o.wait || o.timeout != 30*time.Second || o.user != "a:b" || !o.stream ||
		strings.Join(o.args, " ") != "drain app 1" {
		t.Fatalf("%+v", o)
	}
	for _, bad := range [][]string{{"-bogus"}, {"-api"}, {"-timeout", "-1s"}, {"-interval", "soon"}} {
		if _, err := parseCtl(bad); err == nil {
			t.Errorf("parseCtl(%q): no error", bad)
		}
	}
}

// runScript runs one of the examples/ scripts with the real binary as
// its bunsan, against srv's API.
func runScript(t *testing.T, srv *httptest.Server, env []string, script string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command("sh", append([]string{filepath.Join("..", "..", "examples", script)}, args...)...)
	cmd.Env = append(os.Environ(), append([]string{"BUNSAN=" + binary, "BUNSAN_API=" + srv.URL + "/api", "HEALTH_TRIES=1"}, env...)...)
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, string(out)
}

func upstreamConf(servers ...string) string {
	var b strings.Builder
	b.WriteString("http {\n    upstream app {\n")
	for _, s := range servers {
		b.WriteString("        server " + s + ";\n")
	}
	b.WriteString("    }\n    server { listen 8080; location /api { api write=on; } }\n}\n")
	return b.String()
}

func confAddrs(g *upstream.Group) []string {
	var out []string
	for _, c := range g.ServerConfs() {
		s := c.Addr + " w" + strconv.Itoa(c.Weight)
		if c.Drain {
			s += " drain"
		}
		out = append(out, s)
	}
	return out
}

func TestRollingDeployScript(t *testing.T) {
	b1, b2 := backend(t, "b1"), backend(t, "b2")
	srv, groups := apiServer(t, upstreamConf(b1, b2))
	log := filepath.Join(t.TempDir(), "deploy.log")
	// The deploy step records what the API shows at that moment.
	deploy := `echo "deploy $1" >> ` + log + ` && "$BUNSAN" ctl -api "$BUNSAN_API" servers app >> ` + log
	code, out := runScript(t, srv, []string{"DEPLOY_CMD=" + deploy}, "rolling-deploy.sh", "app", b1, b2)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	if got, want := confAddrs(groups["app"]), []string{b1 + " w1", b2 + " w1"}; !slices.Equal(got, want) {
		t.Fatalf("after the deploy %v, want %v", got, want)
	}
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	// Each server was draining (and only it) while it was deployed.
	sections := strings.Split(string(b), "deploy ")[1:]
	if len(sections) != 2 {
		t.Fatalf("deploy log:\n%s", b)
	}
	for i, s := range []string{b1, b2} {
		sec := sections[i]
		if !strings.HasPrefix(sec, s) || strings.Count(sec, "draining") != 1 || !regexp.MustCompile(regexp.QuoteMeta(s)+`\s+1\s+draining`).MatchString(sec) {
			t.Errorf("deploy of %s saw:\n%s", s, sec)
		}
	}
}

func TestRollingDeployStopsOnUnhealthy(t *testing.T) {
	dead, b2 := freePort(t), backend(t, "b2")
	srv, groups := apiServer(t, upstreamConf(dead, b2))
	code, out := runScript(t, srv, []string{"DEPLOY_CMD=true"}, "rolling-deploy.sh", "app", dead, b2)
	if code != 1 || !strings.Contains(out, "is not healthy after the deploy; it stays drained") {
		t.Fatalf("exit %d\n%s", code, out)
	}
	if got, want := confAddrs(groups["app"]), []string{dead + " w1 drain", b2 + " w1"}; !slices.Equal(got, want) {
		t.Fatalf("after the failed deploy %v, want %v", got, want)
	}
}

func TestBlueGreenScript(t *testing.T) {
	blue1, blue2 := backend(t, "blue1"), backend(t, "blue2")
	green1, green2 := backend(t, "green1"), backend(t, "green2")
	tests := []struct {
		name string
		env  []string
		code int
		want []string
	}{
		{"switch", []string{"STEPS=1 3", "STEP_CMD=true"}, 0, []string{green1 + " w3", green2 + " w3"}},
		{"keep blue drained", []string{"STEPS=2", "KEEP_BLUE=1"}, 0, []string{blue1 + " w1 drain", blue2 + " w1 drain", green1 + " w2", green2 + " w2"}},
		{"failed step check", []string{"STEPS=1 3", "STEP_CMD=false"}, 1, []string{blue1 + " w1", blue2 + " w1", green1 + " w1", green2 + " w1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, groups := apiServer(t, upstreamConf(blue1, blue2))
			code, out := runScript(t, srv, tt.env, "blue-green.sh", "app", blue1+" "+blue2, green1+" "+green2)
			if code != tt.code {
				t.Fatalf("exit %d\n%s", code, out)
			}
			if got := confAddrs(groups["app"]); !slices.Equal(got, tt.want) {
				t.Fatalf("servers %v, want %v\n%s", got, tt.want, out)
			}
		})
	}
}

func TestSince(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := map[string]string{
		"":                         "never",
		"2026-01-02T03:04:04.800Z": "now",
		"2026-01-02T03:03:55.000Z": "10s ago",
		"2026-01-02T01:04:05.000Z": "2h0m0s ago",
		"garbage":                  "garbage",
	}
	for in, want := range tests {
		if got := since(in, now); got != want {
			t.Errorf("since(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestCtlAgainstBinary runs the real binary with an api location and
// drives it with ctl while requests go through it. It skips until the
// HTTP proxy serves "api" locations.
func TestCtlAgainstBinary(t *testing.T) {
	a, b, c := backend(t, "a"), backend(t, "b"), backend(t, "c")
	lb, admin := freePort(t), freePort(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "api.users"), []byte("ops:$apr1$x1$hES3g.N1ayPmiFRhcskH//\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	start(t, dir, fmt.Sprintf(`
http {
    upstream app { server %s; server %s; }
    server { listen %s; location / { proxy_pass http://app; } }
    server {
        listen %s;
        location /api { api write=on; auth_basic "bunsan API"; auth_basic_user_file api.users; }
    }
}`, a, b, lb, admin))
	client := &http.Client{Timeout: 10 * time.Second}
	status, _ := get(t, client, "http://"+admin+"/api/")
	if status == http.StatusNotFound {
		t.Fatal("the HTTP proxy does not serve the api location")
	}
	if status != http.StatusUnauthorized {
		t.Fatalf("without credentials: %d", status)
	}
	t.Setenv("BUNSAN_USER", "ops:correct horse")
	ctlRun := func(args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		if code := run(append([]string{"ctl", "-api", "http://" + admin + "/api"}, args...), &out, &errb); code != 0 {
			t.Fatalf("ctl %v: %d %s", args, code, errb.String())
		}
		return out.String()
	}
	// served collects which backends answer n requests.
	served := func(n int) map[string]int {
		got := map[string]int{}
		for range n {
			status, body := get(t, client, "http://"+lb+"/")
			if status != 200 {
				t.Fatalf("status %d: %s", status, body)
			}
			got[strings.Fields(body)[0]]++
		}
		return got
	}
	ctlRun("drain", "app", a, "-wait")
	if got := served(6); got["a"] != 0 || got["b"] != 6 {
		t.Fatalf("with a drained: %v", got)
	}
	ctlRun("add", "app", c)
	ctlRun("remove", "app", b)
	if got := served(6); got["c"] != 6 {
		t.Fatalf("after adding c and removing b: %v", got)
	}
	ctlRun("enable", "app", a)
	if got := served(6); got["a"] != 3 || got["c"] != 3 {
		t.Fatalf("with a enabled: %v", got)
	}
	if out := ctlRun("servers", "app"); !strings.Contains(out, a) || !strings.Contains(out, c) || strings.Contains(out, b) {
		t.Fatalf("servers:\n%s", out)
	}
	// The responses the proxy passed on are counted by class.
	req, _ := http.NewRequest("GET", "http://"+admin+"/api/9/http/upstreams/app", nil)
	req.SetBasicAuth("ops", "correct horse")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var u struct {
		Peers []struct {
			Server    string         `json:"server"`
			Responses map[string]any `json:"responses"`
			Requests  uint64         `json:"requests"`
		} `json:"peers"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&u); err != nil {
		t.Fatal(err)
	}
	var total float64
	for _, p := range u.Peers {
		total += p.Responses["2xx"].(float64)
	}
	if total == 0 {
		t.Errorf("no 2xx responses counted (the proxy reports Outcome.Status): %+v", u.Peers)
	}
}

// TestCtlBasicAuth: credentials come from -user or from BUNSAN_USER.
func TestCtlBasicAuth(t *testing.T) {
	users := filepath.Join(t.TempDir(), "users")
	if err := os.WriteFile(users, []byte("ops:{PLAIN}pw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	g, err := upstream.NewStore(nil).Build(upstream.Spec{Name: "app", Servers: []upstream.ServerSpec{{Addr: "10.0.0.1:80", Weight: 1, MaxFails: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(admin.New(&config.API{Prefix: "/api"}, admin.Options{
		HTTP: func() []*upstream.Group { return []*upstream.Group{g} },
		Auth: &config.BasicAuth{Realm: "api", UserFile: users},
	}))
	defer srv.Close()
	tests := []struct {
		env  string
		args []string
		code int
	}{
		{"", nil, 1},
		{"ops:pw", nil, 0},
		{"ops:wrong", nil, 1},
		{"ops:wrong", []string{"-user", "ops:pw"}, 0},
	}
	for _, tt := range tests {
		t.Setenv("BUNSAN_USER", tt.env)
		var out, errb bytes.Buffer
		args := append([]string{"-api", srv.URL + "/api", "servers", "app"}, tt.args...)
		if code := runCtl(args, &out, &errb); code != tt.code {
			t.Errorf("BUNSAN_USER=%q %v: %d %s", tt.env, tt.args, code, errb.String())
		}
	}
}

// TestAPIDeploysUnderLoad: a rolling deploy and a blue-green switch made
// only through the API (bunsan ctl), with clients sending requests all
// along: no request fails, since a server is drained before it stops and
// enabled after it is back. It skips until the HTTP proxy serves api
// locations.
func TestAPIDeploysUnderLoad(t *testing.T) {
	bs := []*restartable{newRestartable(t, "a"), newRestartable(t, "b"), newRestartable(t, "c")}
	green := []*restartable{newRestartable(t, "green1"), newRestartable(t, "green2")}
	lb, api := freePort(t), freePort(t)
	start(t, t.TempDir(), fmt.Sprintf(`http {
    upstream app { server %s; server %s; server %s; }
    server { listen %s; location / { proxy_pass http://app; } }
    server { listen %s; location /api { api write=on; } }
}`, bs[0].addr, bs[1].addr, bs[2].addr, lb, api))
	if status, _ := get(t, &http.Client{Timeout: 10 * time.Second}, "http://"+api+"/api/"); status == http.StatusNotFound {
		t.Fatal("the HTTP proxy does not serve the api location")
	}
	ctlRun := func(args ...string) {
		t.Helper()
		var out, errb bytes.Buffer
		if code := run(append([]string{"ctl", "-api", "http://" + api + "/api", "-interval", "10ms"}, args...), &out, &errb); code != 0 {
			t.Fatalf("ctl %v: %d %s", args, code, errb.String())
		}
	}

	l := startLoad(t, "http://"+lb+"/", 4)
	l.waitSent(t, 100)
	for _, b := range bs {
		ctlRun("drain", "app", b.addr, "-wait")
		b.stop()
		l.waitSent(t, 200) // the new version is "deploying"
		b.start()
		ctlRun("enable", "app", b.addr)
		b.waitServing(t)
	}
	l.check(t, "rolling deploy through the API")

	l = startLoad(t, "http://"+lb+"/", 4)
	l.waitSent(t, 100)
	for _, g := range green {
		ctlRun("add", "app", g.addr)
	}
	for _, g := range green {
		g.waitServing(t)
	}
	for _, b := range bs {
		ctlRun("drain", "app", b.addr, "-wait")
	}
	for _, b := range bs {
		ctlRun("remove", "app", b.addr)
		b.stop()
	}
	l.waitSent(t, 200)
	l.check(t, "blue-green switch through the API")
}
