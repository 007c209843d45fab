package httpproxy

import (
	"regexp"
	"strings"
	"testing"
)

// TestVariables evaluates each variable through a real request: a
// location returns the expression as its body.
func TestVariables(t *testing.T) {
	tests := []struct {
		expr string
		path string
		hdr  []string
		want string // a regular expression the whole body must match
	}{
		{"$remote_addr", "/", nil, `127\.0\.0\.1`},
		{"$remote_port", "/", nil, `\d+`},
		{"$host", "/", []string{"Host", "Example.COM:8080"}, `example\.com`},
		{"$http_x_custom", "/", []string{"X-Custom", "v1"}, `v1`},
		{"$http_cookie", "/", []string{"Cookie", "a=1", "Cookie", "b=2"}, `a=1; b=2`},
		{"$cookie_b", "/", []string{"Cookie", "a=1; b=2"}, `2`},
		{"$arg_x", "/p?y=1&X=a%20b", nil, `a%20b`},
		{"$args", "/p?y=1&x=2", nil, `y=1&x=2`},
		{"$is_args$args", "/p", nil, ``},
		{"$uri", "/a//b/./c/../d", nil, `/a/b/d`},
		{"$request_uri", "/a//b?q=1", nil, `/a//b\?q=1`},
		{"$request_method", "/", nil, `GET`},
		{"$scheme", "/", nil, `http`},
		{"$https", "/", nil, ``},
		{"$server_name", "/", nil, `main\.test`},
		{"$server_port", "/", nil, `\d+`},
		{"$server_addr", "/", nil, `127\.0\.0\.1`},
		{"$request_id", "/", nil, `[0-9a-f]{32}`},
		{"$request_time", "/", nil, `\d+\.\d{3}`},
		{"$msec", "/", nil, `\d{10}\.\d{3}`},
		{"$time_iso8601", "/", nil, `\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d`},
		{"$time_local", "/", nil, `\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}`},
		{"$connection $connection_requests", "/", nil, `\d+ 1`},
		{"$proxy_add_x_forwarded_for", "/", []string{"X-Forwarded-For", "10.0.0.1"}, `10\.0\.0\.1, 127\.0\.0\.1`},
		{"$binary_remote_addr", "/", nil, "\x7f\x00\x00\x01"},
		{"${request_method}x", "/", nil, `GETx`},
		{"$ssl_protocol$ssl_cipher$ssl_server_name$ssl_client_verify", "/", nil, ``},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			p := startProxy(t, `http { server { listen LISTEN; server_name main.test; location / { return 200 "`+tt.expr+`"; } } }`)
			_, body := httpGet(t, p.url(tt.path), tt.hdr...)
			if !regexp.MustCompile(`^(?s:` + tt.want + `)$`).MatchString(body) {
				t.Errorf("%s = %q, want /%s/", tt.expr, body, tt.want)
			}
		})
	}
}

// TestCapturesAndMap covers $1 from location and server_name regexes,
// named server_name captures, map and set.
func TestCapturesAndMap(t *testing.T) {
	p := startProxy(t, `http {
		map $http_upgrade $connection_upgrade { default upgrade; '' close; }
		map $uri $kind { ~^/img/ image; /exact exact; default other; }
		server { listen LISTEN; server_name ~^(?P<sub>[a-z]+)\.example\.com$;
			set $greeting "hi-$sub";
			location ~ ^/users/(\d+)/(\w+)$ { return 200 "$1:$2:$sub"; }
			location /m { return 200 "$connection_upgrade $kind $greeting"; }
			location / { return 200 "$kind|$1|$sub"; }
		}
	}`)
	tests := []struct {
		path string
		hdr  []string
		want string
	}{
		{"/users/42/edit", []string{"Host", "api.example.com"}, "42:edit:api"},
		{"/m", []string{"Host", "api.example.com"}, "close other hi-api"},
		{"/m", []string{"Host", "api.example.com", "Upgrade", "websocket"}, "upgrade other hi-api"},
		{"/img/a.png", []string{"Host", "www.example.com"}, "image|www|www"},
		{"/exact", []string{"Host", "x.example.com"}, "exact|x|x"},
	}
	for _, tt := range tests {
		if _, body := httpGet(t, p.url(tt.path), tt.hdr...); body != tt.want {
			t.Errorf("%s %v: %q, want %q", tt.path, tt.hdr, body, tt.want)
		}
	}
}

func TestCompileExprErrors(t *testing.T) {
	for _, text := range []string{"$nosuchvar", "${unclosed", "$", "a$ b"} {
		if _, err := compileExpr(text, newVarScope()); err == nil {
			t.Errorf("%q compiled, want an error", text)
		} else if !strings.Contains(err.Error(), "variable") {
			t.Errorf("%q: error %q does not mention the variable", text, err)
		}
	}
}

// TestUpstreamTimes: $upstream_connect_time is traced when a format uses
// it; the other upstream variables list every attempt.
func TestUpstreamTimes(t *testing.T) {
	be := newBackend(t, "b", nil)
	dead := deadAddr(t)
	p := startProxy(t, `http { upstream app { server `+dead+`; server `+be.addr+`; }
		server { listen LISTEN; location / { proxy_pass http://app;
			add_header X-Up "$upstream_addr|$upstream_status|$upstream_connect_time|$upstream_header_time|$upstream_response_time"; } } }`)
	resp, _ := httpGet(t, p.url("/"))
	re := regexp.MustCompile(`^` + regexp.QuoteMeta(dead+", "+be.addr) + `\|502, 200\|(-|\d+\.\d{3}), \d+\.\d{3}\|-, \d+\.\d{3}\|\d+\.\d{3}, \d+\.\d{3}$`)
	if got := resp.Header.Get("X-Up"); !re.MatchString(got) {
		t.Errorf("X-Up %q", got)
	}
}
