package config

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// healthLoad loads text and returns its Health and every error: those of
// Load and the references HealthOf could not resolve (which Load reports
// itself once finish calls finishHealth).
func healthLoad(t *testing.T, text string) (*Health, []string) {
	t.Helper()
	m, errs := loadText(t, text)
	if m == nil {
		return nil, errs
	}
	h := HealthOf(m)
	for _, e := range h.Errs {
		errs = append(errs, strings.TrimPrefix(e.Error()[strings.LastIndex(e.Error(), "bunsan.conf:"):], "bunsan.conf:"))
	}
	return h, errs
}

const hcUpstream = "upstream b { zone b 64k; server 127.0.0.1:9001; server 127.0.0.1:9002; }\n"

func TestHealthCheckParams(t *testing.T) {
	tests := []struct {
		name string
		line string
		want HealthCheck
	}{
		{"defaults", "health_check;", HealthCheck{Type: CheckHTTP, Interval: 5 * time.Second, Fails: 1, Passes: 1, URI: "/", GRPCStatus: -1}},
		{"all", "health_check interval=2s jitter=500ms fails=3 passes=2 uri=/health port=8081 mandatory persistent;",
			HealthCheck{Type: CheckHTTP, Interval: 2 * time.Second, Jitter: 500 * time.Millisecond, Fails: 3, Passes: 2, URI: "/health", Port: 8081, Mandatory: true, Persistent: true, GRPCStatus: -1}},
		{"grpc", "health_check type=grpc grpc_service=app grpc_status=12;", HealthCheck{Type: CheckGRPC, Interval: 5 * time.Second, Fails: 1, Passes: 1, URI: "/", GRPCService: "app", GRPCStatus: 12}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, errs := healthLoad(t, "http {\n"+hcUpstream+"server { listen 8080; location / { proxy_pass http://b; proxy_connect_timeout 2s; "+tt.line+" } } }")
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			if len(h.Checks) != 1 {
				t.Fatalf("%d checks", len(h.Checks))
			}
			got := *h.Checks[0]
			if got.Group != "b" || got.ConnectTimeout != 2*time.Second || got.ReadTimeout != 60*time.Second || got.Host != "b" {
				t.Errorf("group %q host %q timeouts %v %v", got.Group, got.Host, got.ConnectTimeout, got.ReadTimeout)
			}
			got.Pos, got.resolve, got.Group, got.Host, got.ConnectTimeout, got.ReadTimeout = Pos{}, nil, "", "", 0, 0
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestHealthErrors(t *testing.T) {
	loc := func(body string) string {
		return "http {\n" + hcUpstream + "server { listen 8080; location / {\n" + body + "\n} } }"
	}
	tests := []struct {
		name string
		text string
		want string
	}{
		{"bad param", loc("proxy_pass http://b; health_check intervl=1s;"), `invalid parameter "intervl=1s"`},
		{"bad fails", loc("proxy_pass http://b; health_check fails=0;"), `invalid fails "0"`},
		{"persistent alone", loc("proxy_pass http://b; health_check persistent;"), `"persistent" needs "mandatory"`},
		{"uri", loc("proxy_pass http://b; health_check uri=health;"), `invalid uri "health"`},
		{"type", loc("proxy_pass http://b; health_check type=tcp;"), `invalid type "tcp"`},
		{"no group", loc("proxy_pass http://127.0.0.1:9; health_check;"), `needs a location that proxies to an upstream group`},
		{"no match", loc("proxy_pass http://b; health_check match=nope;"), `match "nope" is not defined`},
		{"in server", "http {\n" + hcUpstream + "server { listen 8080; health_check; } }", `"health_check" directive is not allowed in a "server" block`},
		{"bad status", "http { match m { status 200-99; } }", `invalid status "200-99"`},
		{"bad header", "http { match m { header A B; } }", `invalid header test "A B"`},
		{"bad body", "http { match m { body \"x\"; } }", `"body" takes ~ or !~`},
		{"bad body re", "http { match m { body ~ \"(\"; } }", `invalid regular expression "("`},
		{"unknown line", "http { match m { send x; } }", `unknown line "send" in match block`},
		{"dup match", "http { match m { status 200; } match m { status 201; } }", `duplicate match "m"`},
		{"stub_status arg", "http { server { listen 8080; location /s { stub_status off; } } }", `invalid value "off"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errs := healthLoad(t, tt.text)
			if !strings.Contains(strings.Join(errs, "\n"), tt.want) {
				t.Errorf("errors %q\nwant one containing %q", errs, tt.want)
			}
		})
	}
}

func TestMatchBlock(t *testing.T) {
	h, errs := healthLoad(t, `http {
match ok {
  status 200-399 418;
  header Content-Type ~ "json";
  header ! X-Broken;
  header X-Mode = live;
  body !~ "maintenance";
}
match notfive { status ! 500-599; }
`+hcUpstream+`
server { listen 8080; location / { proxy_pass http://b; health_check match=ok; } }
}`)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	m := h.Matches["ok"]
	if m == nil || h.Checks[0].MatchBlock != m {
		t.Fatalf("match not resolved: %+v", h.Checks[0])
	}
	if len(m.Status) != 2 || m.Status[0] != (StatusRange{200, 399}) || m.Status[1] != (StatusRange{418, 418}) || m.StatusNot {
		t.Errorf("status %+v not=%v", m.Status, m.StatusNot)
	}
	if len(m.Headers) != 3 || m.Headers[0].Re == nil || m.Headers[1].Op != "!" || m.Headers[2].Value != "live" {
		t.Errorf("headers %+v", m.Headers)
	}
	if m.Body == nil || !m.BodyNot {
		t.Errorf("body %v not=%v", m.Body, m.BodyNot)
	}
	if n := h.Matches["notfive"]; n == nil || !n.StatusNot || n.Status[0] != (StatusRange{500, 599}) {
		t.Errorf("notfive %+v", n)
	}
}

func TestStatusEndpoints(t *testing.T) {
	m, errs := loadText(t, `http {
server { listen 8080; status_zone front;
  location /metrics { prometheus; }
  location = /basic_status { stub_status; }
  location /old { stub_status on; }
  location /dash/ { dashboard; }
  location / { return 200; }
}
server { listen 8081; stub_status; }
}`)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	h := HealthOf(m)
	s0, s1 := m.HTTP.Servers[0], m.HTTP.Servers[1]
	want := []string{EndpointPrometheus, EndpointStubStatus, EndpointStubStatus, EndpointDashboard, ""}
	for i, loc := range s0.Locations {
		if got := h.Endpoint(s0, loc); got != want[i] {
			t.Errorf("location %s: %q, want %q", loc.Path, got, want[i])
		}
	}
	if got := h.Endpoint(s1, nil); got != EndpointStubStatus {
		t.Errorf("server-level stub_status: %q", got)
	}
	if h.Zone(s0) != "front" || h.Zone(s1) != "" {
		t.Errorf("zones %q %q", h.Zone(s0), h.Zone(s1))
	}
	if h.ZoneName(s0) != "front" || h.ZoneName(s1) != ":8081" {
		t.Errorf("zone names %q %q", h.ZoneName(s0), h.ZoneName(s1))
	}
}

func TestUnescapeHex(t *testing.T) {
	tests := []struct {
		in, want string
		err      bool
	}{
		{`PING`, "PING", false},
		{`\x00\x01ab`, "\x00\x01ab", false},
		{`\xff`, "\xff", false},
		{`\x0`, "", true},
		{`\xzz`, "", true},
	}
	for _, tt := range tests {
		got, err := unescapeHex(tt.in)
		if (err != nil) != tt.err || (!tt.err && string(got) != tt.want) {
			t.Errorf("unescapeHex(%q) = %q, %v", tt.in, got, err)
		}
	}
}
