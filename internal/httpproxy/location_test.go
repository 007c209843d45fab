package httpproxy

import (
	"strings"
	"testing"
)

func TestNormalizePath(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"/", "/", true},
		{"/a/b", "/a/b", true},
		{"//a///b", "/a/b", true},
		{"/a/./b", "/a/b", true},
		{"/a/../b", "/b", true},
		{"/x/../admin", "/admin", true},
		{"/a/b/..", "/a/", true},
		{"/a/.", "/a/", true},
		{"/a/b/", "/a/b/", true},
		{"/..", "", false},
		{"/a/../../b", "", false},
		{"/...", "/...", true},
		{"relative", "", false},
	}
	for _, tt := range tests {
		got, ok := normalizePath(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("normalizePath(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// TestLocationPrecedence runs nginx's order through real requests:
// exact, ^~, longest prefix with nested locations, regexes in order, and
// normalisation before matching so that /admin cannot be bypassed.
func TestLocationPrecedence(t *testing.T) {
	p := startProxy(t, `http { server { listen LISTEN;
		location = /exact { return 200 "exact"; }
		location / { return 200 "root"; }
		location /admin { deny all; proxy_pass http://127.0.0.1:1; }
		location /open { deny all; return 200 "open: return runs before access, as in nginx"; }
		location ^~ /static/ { return 200 "static"; }
		location /api/ { return 200 "api";
			location /api/v2/ { return 200 "api-v2"; }
			location ~ \.json$ { return 200 "api-json"; }
		}
		location ~* \.(png|jpg)$ { return 200 "image"; }
		location ~ ^/static/.*\.css$ { return 200 "never: ^~ wins"; }
		location ~ /files/(.*)$ { return 200 "files:$1"; }
		location /files/ { return 200 "files-prefix"; }
	} }`)
	tests := []struct {
		raw  string // request target as sent
		code int
		want string
	}{
		{"/exact", 200, "exact"},
		{"/exact/", 200, "root"},
		{"/other", 200, "root"},
		{"/admin", 403, ""},
		{"/open", 200, "open: return runs before access, as in nginx"},
		{"/admin/x", 403, ""},
		{"/x/../admin", 403, ""},
		{"/%61dmin", 403, ""},
		{"//admin", 403, ""},
		{"/./admin", 403, ""},
		{"/x/%2e%2e/admin", 403, ""},
		{"/static/a.css", 200, "static"},
		{"/static/a.PNG", 200, "static"},
		{"/img/a.PNG", 200, "image"},
		{"/api/x", 200, "api"},
		{"/api/v2/x", 200, "api-v2"},
		{"/api/x.json", 200, "api-json"},
		{"/files/a/b", 200, "files:a/b"},
		{"/../etc/passwd", 400, ""},
		{"/a/%2e%2e/%2e%2e/etc", 400, ""},
	}
	for _, tt := range tests {
		resp, body := p.rawResponse(t, "GET "+tt.raw+" HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
		if resp.StatusCode != tt.code || (tt.want != "" && body != tt.want) {
			t.Errorf("%s: %d %q, want %d %q", tt.raw, resp.StatusCode, firstLine(body), tt.code, tt.want)
		}
	}
}

// TestVirtualServers chooses servers by Host as nginx does, with the
// default_server taking unknown names.
func TestVirtualServers(t *testing.T) {
	p := startProxy(t, `http {
		server { listen LISTEN; server_name first.test; return 200 "first"; }
		server { listen LISTEN default_server; server_name _; return 200 "default"; }
		server { listen LISTEN; server_name exact.example.com; return 200 "exact"; }
		server { listen LISTEN; server_name *.example.com; return 200 "wild-start"; }
		server { listen LISTEN; server_name *.a.example.com; return 200 "wild-longer"; }
		server { listen LISTEN; server_name www.example.*; return 200 "wild-end"; }
		server { listen LISTEN; server_name ~^(?<user>\w+)\.users\.test$; return 200 "user:$user"; }
		server { listen LISTEN; server_name .dot.test; return 200 "dot"; }
	}`)
	tests := []struct{ host, want string }{
		{"first.test", "first"},
		{"FIRST.test.", "first"},
		{"unknown.test", "default"},
		{"", "default"},
		{"exact.example.com", "exact"},
		{"x.example.com", "wild-start"},
		{"b.a.example.com", "wild-longer"},
		{"www.example.org", "wild-end"},
		{"bob.users.test", "user:bob"},
		{"dot.test", "dot"},
		{"x.dot.test", "dot"},
		{"first.test:8080", "first"},
	}
	for _, tt := range tests {
		req := "GET / HTTP/1.1\r\nHost: " + tt.host + "\r\nConnection: close\r\n\r\n"
		if tt.host == "" {
			req = "GET / HTTP/1.0\r\n\r\n"
		}
		_, body := p.rawResponse(t, req)
		if body != tt.want {
			t.Errorf("Host %q: %q, want %q", tt.host, body, tt.want)
		}
	}
}

// TestProxyPassURI applies nginx's URI rules: no URI passes the request
// URI as the client sent it; a URI replaces the matched prefix of the
// normalised URI; variables give the URI as written.
func TestProxyPassURI(t *testing.T) {
	be := newBackend(t, "b", nil)
	p := startProxy(t, `http { server { listen LISTEN;
		location /raw/ { proxy_pass http://`+be.addr+`; }
		location /strip/ { proxy_pass http://`+be.addr+`/; }
		location /swap/ { proxy_pass http://`+be.addr+`/new/; }
		location /noslash { proxy_pass http://`+be.addr+`/base; }
		location ~ ^/re/(.*)$ { proxy_pass http://`+be.addr+`; }
		location /var/ { set $b `+be.addr+`; proxy_pass http://$b/v$uri?from=var; }
	} }`)
	tests := []struct{ target, want string }{
		{"/raw/a%20b//c?x=1", "/raw/a%20b//c?x=1"},
		{"/strip/a/b?x=1", "/a/b?x=1"},
		{"/strip/a%20b", "/a%20b"},
		{"/strip//a/./b", "/a/b"},
		{"/swap/x", "/new/x"},
		{"/noslash/x", "/base/x"},
		{"/re/anything?q", "/re/anything?q"},
		{"/var/z", "/v/var/z?from=var"},
	}
	for _, tt := range tests {
		resp, body := p.rawResponse(t, "GET "+tt.target+" HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
		if resp.StatusCode != 200 || !strings.HasSuffix(body, " "+tt.want) {
			t.Errorf("%s: %d %q, backend should see %q", tt.target, resp.StatusCode, body, tt.want)
		}
	}
}
