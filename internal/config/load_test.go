package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"bunsan/internal/conf"
	"bunsan/internal/upstream"
)

// loadText writes text as the main file of a fresh directory and loads it.
func loadText(t *testing.T, text string) (*Model, []string) {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "bunsan.conf")
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	m, _, err := Load(Options{Prefix: dir + "/", File: file})
	return m, errorLines(t, err, dir+"/")
}

// errorLines returns each error as "line:col: message", the directory
// stripped so that tables stay readable.
func errorLines(t *testing.T, err error, dir string) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var el conf.ErrorList
	if !errors.As(err, &el) {
		t.Fatalf("error is %T, want conf.ErrorList: %v", err, err)
	}
	var out []string
	for _, e := range el {
		out = append(out, strings.TrimPrefix(strings.TrimPrefix(e.Error(), dir), "bunsan.conf:"))
	}
	return out
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []string
	}{
		{"unknown with hint", "http { server { location / { proxy_pas http://a:1; } } }",
			[]string{`1:30: unknown directive "proxy_pas": did you mean "proxy_pass"?`}},
		{"unknown no hint", "zzzzzzzzzz on;",
			[]string{`1:1: unknown directive "zzzzzzzzzz"`}},
		{"upstream in server", "http {\n server {\n  upstream u { server 127.0.0.1:1; }\n }\n}",
			[]string{`3:3: "upstream" directive is not allowed in a "server" block; it belongs in http: move the upstream block out of the server block, next to it inside "http", and refer to it with proxy_pass http://NAME`}},
		{"proxy_pass outside location", "http { server { proxy_pass http://a:1; } }",
			[]string{`1:17: "proxy_pass" directive is not allowed in a "server" block; it belongs in location, if or limit_except: put it inside a location block, e.g. location / { proxy_pass ...; }`}},
		{"proxy_pass without scheme", "http { upstream momo { server 127.0.0.1:1; } server { location / { proxy_pass momo; } } }",
			[]string{`1:79: invalid URL prefix in "momo": proxy_pass needs a scheme; write "proxy_pass http://momo;"`}},
		{"proxy_pass unknown group", "http { upstream momo { server 127.0.0.1:1; } server { location / { proxy_pass http://mom; } } }",
			[]string{`1:68: host not found in upstream "mom": no upstream block is named "mom"; did you mean "momo"?`}},
		{"arg count", "http { server { listen; } }",
			[]string{`1:17: invalid number of arguments in "listen" directive: it takes at least 1`}},
		{"duplicate", "http { server { location / { proxy_pass http://a:1; proxy_read_timeout 1s; proxy_read_timeout 2s; } } }",
			[]string{`1:76: "proxy_read_timeout" directive is duplicate: it may appear once per block; remove one`}},
		{"block on simple", "http { server { listen 80 { } } }",
			[]string{`1:17: directive "listen" takes no block: end it with ";" instead of "{ ... }"`}},
		{"no block", "http;",
			[]string{`1:1: directive "http" has no opening "{": it takes a block, e.g. http { ... }`}},
		{"bad size", "http { proxy_buffer_size 12q; }",
			[]string{`1:26: invalid size "12q": write a number of bytes, optionally with k, m or g (e.g. 128k)`}},
		{"bad time", "http { proxy_read_timeout soon; }",
			[]string{`1:27: invalid time "soon": write a number with a unit, e.g. 30s, 500ms, 5m or 1h`}},
		{"busy buffers", "http { server { location / { proxy_pass http://a:1; proxy_buffers 2 4k; proxy_busy_buffers_size 8k; } } }",
			[]string{`1:17: "proxy_busy_buffers_size" must be less than the size of all "proxy_buffers" minus one buffer`}},
		{"scheme in upstream server", "http { upstream u { server http://10.0.0.1:80; } }",
			[]string{`1:28: invalid address "http://10.0.0.1:80": an upstream server is HOST:PORT without a scheme; write "server 10.0.0.1:80;"`}},
		{"bad server param", "http { upstream u { server 10.0.0.1:80 wieght=2; } }",
			[]string{`1:40: invalid parameter "wieght=2": an upstream server takes weight=N, max_conns=N, max_fails=N, fail_timeout=TIME, backup, down, drain, slow_start=TIME, route=STRING, resolve and service=NAME`}},
		{"two methods", "http { upstream u { ip_hash; least_conn; server 10.0.0.1:80; } }",
			[]string{`1:30: load balancing method redefined: "least_conn" after "ip_hash"; an upstream uses one method`}},
		{"empty upstream", "http { upstream u { } }",
			[]string{`1:8: no servers are inside upstream "u": add at least one "server HOST:PORT;"`}},
		{"ssl without cert", "http { server { listen 443 ssl; } }",
			[]string{`1:17: no "ssl_certificate" is defined for the "listen ... ssl" directive: add ssl_certificate and ssl_certificate_key to this server`}},
		{"unsupported", "http { server { root /var/www; } }",
			[]string{`1:17: "root" is an nginx directive that bunsan does not support yet (bunsan is a load balancer and serves no files; proxy to a file server)`}},
		{"listen port range", "http { server { listen 70000; } }",
			[]string{`1:24: invalid port "70000" in listen: it must be 1 to 65535`}},
		{"wildcard in middle", "http { server { server_name a.*.com; } }",
			[]string{`1:29: invalid server name "a.*.com": a wildcard may only stand at the start (*.example.com) or the end (www.example.*)`}},
		{"regex location with uri", "http { server { location ~ \\.php$ { proxy_pass http://a:1/x; } } }",
			[]string{`1:48: "proxy_pass" cannot have URI part in location given by regular expression, or inside named location; drop "/x" from "http://a:1/x"`}},
		{"several errors in order", "http {\n server {\n  listen 127.0.0.1:http;\n  location / { proxy_pass a; }\n }\n}",
			[]string{
				`3:10: invalid port "http" in "127.0.0.1:http": it must be 1 to 65535`,
				`4:27: invalid URL prefix in "a": proxy_pass needs a scheme; write "proxy_pass http://a;"`,
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, got := loadText(t, tt.text)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("errors:\n got: %q\nwant: %q", got, tt.want)
			}
		})
	}
}

func TestLoadModel(t *testing.T) {
	m, errs := loadText(t, `
pid logs/x.pid;
worker_processes auto;
events { worker_connections 1024; }
http {
    proxy_read_timeout 5s;
    upstream app {
        least_conn;
        server 127.0.0.1:9001 weight=5 max_fails=3 fail_timeout=30s;
        server 127.0.0.1:9002 backup;
        server [::1]:9003 down;
        server localhost;
        keepalive 16;
    }
    server {
        listen 127.0.0.1:8080 default_server;
        listen [::1]:8080;
        server_name example.com *.example.com;
        proxy_connect_timeout 2s;
        location / {
            proxy_pass http://app;
            proxy_set_header X-Real-IP $remote_addr;
        }
        location = /health { return 200 "ok"; }
        location /old/ { location /old/deep/ { proxy_pass http://127.0.0.1:9/new/; } }
    }
}`)
	if errs != nil {
		t.Fatalf("errors: %q", errs)
	}
	if !strings.HasSuffix(m.PID, "/logs/x.pid") || !filepath.IsAbs(m.PID) {
		t.Errorf("PID = %q, want PREFIX/logs/x.pid", m.PID)
	}
	u := m.HTTP.Upstream("app")
	want := []upstream.ServerSpec{
		{Addr: "127.0.0.1:9001", Written: "127.0.0.1:9001", Weight: 5, MaxFails: 3, FailTimeout: 30 * time.Second, Line: 9},
		{Addr: "127.0.0.1:9002", Written: "127.0.0.1:9002", Weight: 1, MaxFails: 1, FailTimeout: 10 * time.Second, Backup: true, Line: 10},
		{Addr: "[::1]:9003", Written: "[::1]:9003", Weight: 1, MaxFails: 1, FailTimeout: 10 * time.Second, Down: true, Line: 11},
		{Addr: "localhost:80", Written: "localhost", Weight: 1, MaxFails: 1, FailTimeout: 10 * time.Second, Line: 12},
	}
	if u.Method != upstream.LeastConn || u.Keepalive != 16 || len(u.Servers) != 4 {
		t.Fatalf("upstream = %+v", u)
	}
	for i, w := range want {
		if u.Servers[i] != w {
			t.Errorf("server %d = %+v, want %+v", i, u.Servers[i], w)
		}
	}
	srv := m.HTTP.Servers[0]
	if len(srv.Listens) != 2 || srv.Listens[0].Addr != "127.0.0.1:8080" || !srv.Listens[0].DefaultServer || srv.Listens[1].Addr != "[::1]:8080" {
		t.Errorf("listens = %+v", srv.Listens)
	}
	root := srv.Locations[0]
	if root.Proxy.Pass.Group != "app" || root.Proxy.ReadTimeout != 5*time.Second || root.Proxy.ConnectTimeout != 2*time.Second {
		t.Errorf("location / proxy = %+v", root.Proxy)
	}
	if root.Proxy.SendTimeout != 60*time.Second || root.Proxy.HTTPVersion != "1.1" {
		t.Errorf("defaults not applied: %+v", root.Proxy)
	}
	deep := srv.Locations[2].Locations[0]
	if deep.Proxy.Pass.Host != "127.0.0.1:9" || deep.Proxy.Pass.URI != "/new/" || !deep.Proxy.Pass.HasURI {
		t.Errorf("nested proxy_pass = %+v", deep.Proxy.Pass)
	}
	if srv.Locations[1].Modifier != LocExact || srv.Locations[1].Return.Code != 200 {
		t.Errorf("exact location = %+v", srv.Locations[1])
	}
}

// TestSeedConfig loads the configuration from the blog post bunsan
// started from, mistakes included, and checks that each mistake gets a
// message that says how to fix it.
func TestSeedConfig(t *testing.T) {
	dir, _ := filepath.Abs("../../testdata/seed")
	_, _, err := Load(Options{Prefix: dir + "/", File: filepath.Join(dir, "nginx.conf")})
	got := errorLines(t, err, dir+"/")
	want := []string{
		`sites-enabled/momo.conf:5:2: "upstream" directive is not allowed in a "server" block; it belongs in http: move the upstream block out of the server block, next to it inside "http", and refer to it with proxy_pass http://NAME`,
		`sites-enabled/momo.conf:6:23: missing ";" after "server 10.0.0.1:8080": every directive ends with ";"`,
		`sites-enabled/momo.conf:7:23: missing ";" after "server 10.0.0.2:8080": every directive ends with ";"`,
		`sites-enabled/momo.conf:10:2: "//" does not start a comment in nginx configuration; use "#"`,
		`sites-enabled/momo.conf:11:18: cannot load certificate "/home/ubuntu/momokeys/fullchain.pem": no such file or directory; check the path`,
		`sites-enabled/momo.conf:12:22: cannot load certificate key "/home/ubuntu/momokeys/privkey.pem": no such file or directory; check the path`,
		`sites-enabled/momo.conf:15:14: invalid URL prefix in "momo_server": proxy_pass needs a scheme; write "proxy_pass http://momo_server;"`,
	}
	if len(got) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("error %d:\n got: %s\nwant prefix: %s", i, got[i], want[i])
		}
	}
}

func TestDirectivesHaveHandlersOrReasons(t *testing.T) {
	for _, rows := range table {
		for _, r := range rows {
			if r.handle == nil && r.ignored == "" && r.warn == "" {
				t.Errorf("directive %q has neither a handler nor a reason to be ignored", r.name)
			}
		}
	}
}

func TestParseDuration(t *testing.T) {
	tests := map[string]time.Duration{
		"30": 30 * time.Second, "30s": 30 * time.Second, "500ms": 500 * time.Millisecond,
		"5m": 5 * time.Minute, "1h30m": 90 * time.Minute, "1h 30m": 90 * time.Minute, "2d": 48 * time.Hour,
	}
	for in, want := range tests {
		if got, err := parseDuration(in); err != nil || got != want {
			t.Errorf("parseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "s", "1x", "-1s"} {
		if _, err := parseDuration(bad); err == nil {
			t.Errorf("parseDuration(%q) succeeded", bad)
		}
	}
}

func TestParseSize(t *testing.T) {
	tests := map[string]int64{"512": 512, "4k": 4096, "4K": 4096, "1m": 1 << 20, "2g": 2 << 30}
	for in, want := range tests {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "k", "1x", "-1"} {
		if _, err := parseSize(bad); err == nil {
			t.Errorf("parseSize(%q) succeeded", bad)
		}
	}
}

func TestMissingSemicolonAcrossLines(t *testing.T) {
	tests := []struct {
		name, text string
		want       []string
	}{
		{"listen before location", "http {\n  server {\n    listen 8080\n    location / { proxy_pass http://127.0.0.1:9000; }\n  }\n}",
			[]string{`3:16: missing ";" after "listen 8080": every directive ends with ";"`}},
		{"proxy_pass before header", "http {\n  server {\n    location / {\n      proxy_pass http://127.0.0.1:9000\n      proxy_read_timeout 5s;\n    }\n  }\n}",
			[]string{`4:39: missing ";" after "proxy_pass http://127.0.0.1:9000": every directive ends with ";"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, got := loadText(t, tt.text)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("errors:\n got: %q\nwant: %q", got, tt.want)
			}
		})
	}
}
