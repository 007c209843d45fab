package config

import (
	"strings"
	"testing"
	"time"
)

// TestHTTPDirectives loads each new http directive and checks the model,
// including inheritance from http to server to location.
func TestHTTPDirectives(t *testing.T) {
	m, errs := loadText(t, `http {
		log_format j escape=json '{"s":$status}';
		access_log logs/a.log j buffer=32k;
		add_header X-A a;
		client_max_body_size 5m;
		keepalive_timeout 10s;
		large_client_header_buffers 2 16k;
		set_real_ip_from 10.0.0.0/8;
		real_ip_header X-Forwarded-For;
		map $http_upgrade $connection_upgrade { default upgrade; '' close; ~*^web ws; }
		server { listen 127.0.0.1:8080;
			error_page 502 503 =200 /down;
			set $a 1;
			if ($request_method = POST) { return 405; }
			location / { add_header X-B b always; allow 10.0.0.0/8; deny all; access_log off;
				proxy_pass http://127.0.0.1:9000; proxy_hide_header X-Powered-By; proxy_intercept_errors on;
				proxy_request_buffering off; proxy_redirect / /app/; }
		}
	}`)
	if errs != nil {
		t.Fatal(errs)
	}
	h := m.HTTP
	if f := h.LogFormats["j"]; f.Escape != "json" || f.Text != `{"s":$status}` {
		t.Errorf("log_format %+v", f)
	}
	if len(h.Maps) != 1 || h.Maps[0].Var != "connection_upgrade" || !h.Maps[0].HasDefault || len(h.Maps[0].Entries) != 2 {
		t.Errorf("map %+v", h.Maps)
	}
	srv := h.Servers[0]
	if srv.Settings.KeepaliveTimeout != 10*time.Second || srv.Settings.LargeHeaderBuffers.Size != 16<<10 {
		t.Errorf("server settings %+v", srv.Settings)
	}
	if len(srv.Rewrite) != 2 || srv.Rewrite[0].Set == nil || srv.Rewrite[1].If == nil || srv.Rewrite[1].If.Return.Code != 405 {
		t.Errorf("server rewrite %+v", srv.Rewrite)
	}
	loc := srv.Locations[0]
	if len(loc.Settings.AddHeaders) != 1 || !loc.Settings.AddHeaders[0].Always {
		t.Errorf("add_header at location should replace the inherited list: %+v", loc.Settings.AddHeaders)
	}
	if len(srv.Settings.AddHeaders) != 1 || srv.Settings.AddHeaders[0].Name != "X-A" {
		t.Errorf("add_header inherited by server: %+v", srv.Settings.AddHeaders)
	}
	if !loc.Settings.AccessLogOff || len(srv.Settings.AccessLogs) != 1 || srv.Settings.AccessLogs[0].Buffer != 32<<10 {
		t.Errorf("access logs: loc %+v srv %+v", loc.Settings, srv.Settings.AccessLogs)
	}
	if len(loc.Settings.ErrorPages) != 1 || loc.Settings.ErrorPages[0].Response != 200 || loc.Settings.RealIPHeader != "X-Forwarded-For" {
		t.Errorf("inherited error_page / real_ip: %+v", loc.Settings)
	}
	if len(loc.Settings.Access) != 2 || !loc.Settings.Access[0].Allow || !loc.Settings.Access[1].All {
		t.Errorf("allow/deny %+v", loc.Settings.Access)
	}
	p := loc.Proxy
	if p.ClientMaxBody != 5<<20 || p.RequestBuffering || !p.InterceptErrors || len(p.HideHeaders) != 1 || len(p.Redirects) != 1 {
		t.Errorf("proxy %+v", p)
	}
}

func TestHTTPDirectiveErrors(t *testing.T) {
	tests := []struct{ text, want string }{
		{`http { server { location / { if ($a = b) { proxy_pass http://x:1; } } } }`, `"proxy_pass" inside if is not supported`},
		{`http { server { location / { if (-f $x) { return 404; } } } }`, `file tests`},
		{`http { server { location / { if ($a ~ "(") { return 404; } } } }`, `invalid regular expression`},
		{`http { server { if (a) { return 404; } } }`, `must start with a variable`},
		{`http { access_log logs/x.log nosuch; server { } }`, `unknown log format "nosuch"`},
		{`http { server { location / { error_page 200 /x; } } }`, `must be between 300 and 599`},
		{`http { server { location / { add_header X y never; } } }`, `can only be "always"`},
		{`http { server { location / { allow 10.0.0.300; } } }`, `invalid address`},
		{`http { map $a b { default c; } }`, `invalid variable name "b"`},
		{`http { log_format combined '$status'; }`, `predefined`},
		{`http { server { location / { proxy_redirect ~( x; } } }`, `invalid regular expression`},
	}
	for _, tt := range tests {
		_, errs := loadText(t, tt.text)
		if !strings.Contains(strings.Join(errs, "\n"), tt.want) {
			t.Errorf("%s:\n got %v\nwant %q", tt.text, errs, tt.want)
		}
	}
}
