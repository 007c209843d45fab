package stream

import (
	"net/netip"
	"slices"
	"sort"
	"testing"
	"time"

	"bunsan/internal/config"
)

func testSession() *session {
	p := &Proxy{now: func() time.Time { return time.Unix(1700000000, 5e8).UTC() }}
	s := p.newSession("TCP", netip.MustParseAddrPort("192.0.2.1:5555"), netip.MustParseAddrPort("10.0.0.1:443"))
	s.start = time.Unix(1699999998, 0)
	s.hello = clientHello{ServerName: "api.example.com", ALPN: []string{"h2", "http/1.1"}, Version: 0x0304}
	s.upstreams = []string{"10.0.0.2:80", "10.0.0.3:80"}
	s.bytesSent, s.bytesReceived = 10, 20
	s.upConnect = 1500 * time.Microsecond
	return s
}

func TestTemplates(t *testing.T) {
	s := testSession()
	tests := []struct{ in, want string }{
		{"$remote_addr:$remote_port", "192.0.2.1:5555"},
		{"${server_addr}_$server_port", "10.0.0.1_443"},
		{"$protocol $status", "TCP 200"},
		{"$ssl_preread_server_name $ssl_preread_protocol $ssl_preread_alpn_protocols", "api.example.com TLSv1.3 h2,http/1.1"},
		{"$upstream_addr", "10.0.0.2:80, 10.0.0.3:80"},
		{"$bytes_sent $bytes_received $session_time", "10 20 2.500"},
		{"$upstream_connect_time $upstream_first_byte_time", "0.001 -"},
		{"$time_iso8601", "2023-11-14T22:13:20+00:00"},
		{"$binary_remote_addr", "\xc0\x00\x02\x01"},
		{"$proxy_protocol_addr", ""},
		{"plain text", "plain text"},
	}
	for _, tt := range tests {
		tm, err := compile(tt.in, nil)
		if err != nil {
			t.Errorf("%q: %v", tt.in, err)
			continue
		}
		if got := string(tm.eval(s, nil)); got != tt.want {
			t.Errorf("%q = %q, want %q", tt.in, got, tt.want)
		}
	}
	for _, bad := range []string{"$nope", "${remote_addr", "$"} {
		if _, err := compile(bad, nil); err == nil {
			t.Errorf("%q compiled", bad)
		}
	}
}

// TestVariablesAgree checks that every variable the config accepts is
// one this package evaluates, and the other way round.
func TestVariablesAgree(t *testing.T) {
	var here []string
	for n := range varIDs {
		here = append(here, n)
	}
	sort.Strings(here)
	there := slices.Clone(config.StreamVariables)
	sort.Strings(there)
	if !slices.Equal(here, there) {
		t.Errorf("stream evaluates %v\nconfig accepts %v", here, there)
	}
}

func TestMaps(t *testing.T) {
	st := &config.Stream{Maps: []*config.StreamMap{
		{Source: "$ssl_preread_server_name", Var: "be", Default: "dflt", Hostnames: true, Entries: []config.MapEntry{
			{Key: "api.example.com", Value: "exact"},
			{Key: "*.example.com", Value: "star"},
			{Key: ".example.org", Value: "dot"},
			{Key: "www.example.*", Value: "tail"},
			{Key: `^db\d+\.`, Value: "re-$remote_addr", Regex: true},
			{Key: "^CASE", Value: "fold", Regex: true, Fold: true},
		}},
		{Source: "$be", Var: "chained", Default: "none", Entries: []config.MapEntry{{Key: "exact", Value: "via-map"}}},
	}}
	maps, err := compileMaps(st)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ sni, be, chained string }{
		{"api.example.com", "exact", "via-map"},
		{"API.Example.COM.", "exact", "via-map"},
		{"x.example.com", "star", "none"},
		{"example.org", "dot", "none"},
		{"a.b.example.org", "dot", "none"},
		{"www.example.net", "tail", "none"},
		{"db12.internal", "re-192.0.2.1", "none"},
		{"case.test", "fold", "none"},
		{"other", "dflt", "none"},
		{"", "dflt", "none"},
	}
	for _, tt := range tests {
		s := testSession()
		s.hello.ServerName = tt.sni
		if got := string(maps["be"].eval(s, nil, 0)); got != tt.be {
			t.Errorf("%q: $be = %q, want %q", tt.sni, got, tt.be)
		}
		if got := string(maps["chained"].eval(s, nil, 0)); got != tt.chained {
			t.Errorf("%q: $chained = %q, want %q", tt.sni, got, tt.chained)
		}
	}
}

func TestAllowed(t *testing.T) {
	pfx := netip.MustParsePrefix
	rules := []config.AccessRule{
		{Allow: false, Prefix: pfx("10.1.0.0/16")},
		{Allow: true, Prefix: pfx("10.0.0.0/8")},
		{Allow: true, Prefix: pfx("::1/128")},
		{Allow: false, All: true},
	}
	tests := []struct {
		addr string
		want bool
	}{
		{"10.1.2.3", false}, {"10.2.3.4", true}, {"::ffff:10.2.3.4", true}, {"::1", true}, {"192.0.2.1", false},
	}
	for _, tt := range tests {
		if got := allowed(rules, netip.MustParseAddr(tt.addr)); got != tt.want {
			t.Errorf("%s: %v", tt.addr, got)
		}
	}
	if !allowed(nil, netip.MustParseAddr("192.0.2.1")) {
		t.Error("no rules must allow")
	}
}
