package config

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"bunsan/internal/upstream"
)

func TestStreamLoad(t *testing.T) {
	m, errs := loadText(t, `
stream {
    proxy_timeout 5s;
    allow 10.0.0.0/8;
    deny all;
    log_format short '$remote_addr $upstream_addr $status';
    limit_conn_zone $binary_remote_addr zone=addr:1m;
    upstream db {
        hash $remote_addr consistent;
        server 127.0.0.1:5432 weight=2 max_fails=3 fail_timeout=5s;
        server 127.0.0.1:5433 max_conns=10;
    }
    map $ssl_preread_server_name $be {
        default db;
        a.example  127.0.0.1:1;
        ~^b\.      db;
    }
    server {
        listen 127.0.0.1:9000 reuseport;
        listen 9001 udp;
        proxy_pass db;
        proxy_timeout 1s;
        deny 10.1.0.0/16;
        limit_conn addr 2;
        access_log logs/s.log short;
    }
    server {
        listen 9002 proxy_protocol;
        set_real_ip_from 127.0.0.1;
        ssl_preread on;
        proxy_pass $be;
    }
    proxy_connect_timeout 2s;
}`)
	if len(errs) > 0 {
		t.Fatalf("errors: %v", errs)
	}
	st := m.Stream
	if len(st.Upstreams) != 1 || st.Upstreams[0].Method != upstream.Hash || !st.Upstreams[0].Consistent || st.Upstreams[0].HashKey != "$remote_addr" {
		t.Fatalf("upstreams: %+v", st.Upstreams)
	}
	a, b := st.Servers[0].Proxy, st.Servers[1].Proxy
	if a.Pass.Group != "db" || b.Pass.Var != true || b.Pass.Group != "" {
		t.Errorf("proxy_pass: %+v / %+v", a.Pass, b.Pass)
	}
	// Written after the servers, still inherited.
	if a.ConnectTimeout != 2*time.Second || b.ConnectTimeout != 2*time.Second {
		t.Errorf("proxy_connect_timeout not inherited: %v %v", a.ConnectTimeout, b.ConnectTimeout)
	}
	if a.Timeout != time.Second || b.Timeout != 5*time.Second {
		t.Errorf("proxy_timeout: %v %v", a.Timeout, b.Timeout)
	}
	// A server's own allow/deny replaces the stream level's list.
	wantA := []AccessRule{{Allow: false, Prefix: netip.MustParsePrefix("10.1.0.0/16")}}
	if !reflect.DeepEqual(a.Access, wantA) || len(b.Access) != 2 {
		t.Errorf("access: %+v / %+v", a.Access, b.Access)
	}
	if got := st.Servers[0].Listens; len(got) != 2 || got[0].Addr != "127.0.0.1:9000" || !got[0].ReusePort || !got[1].UDP || got[1].Addr != ":9001" {
		t.Errorf("listens: %+v", got)
	}
	if !st.Servers[1].Listens[0].ProxyProtocol || len(b.RealIPFrom) != 1 || !b.SSLPreread {
		t.Errorf("server 2: %+v", st.Servers[1])
	}
	if len(a.LimitConn) != 1 || st.Zones["addr"] == nil || a.AccessLogs[0].Format != "short" || !strings.HasSuffix(a.AccessLogs[0].Path, "/logs/s.log") {
		t.Errorf("limit_conn/access_log: %+v %+v", a.LimitConn, a.AccessLogs)
	}
	mp := st.Map("be")
	if mp == nil || mp.Default != "db" || len(mp.Entries) != 2 || !mp.Entries[1].Regex {
		t.Errorf("map: %+v", mp)
	}
}

func TestStreamUpstreamNamespace(t *testing.T) {
	// The same name in http and stream is two groups, as in nginx.
	m, errs := loadText(t, `
http { upstream u { server 127.0.0.1:1; } server { listen 127.0.0.1:1; location / { proxy_pass http://u; } } }
stream { upstream u { server 127.0.0.1:2; } server { listen 127.0.0.1:3; proxy_pass u; } }`)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if m.HTTP.Upstream("u").Servers[0].Addr != "127.0.0.1:1" || m.Stream.Upstream("u").Servers[0].Addr != "127.0.0.1:2" {
		t.Errorf("namespaces mixed")
	}
}

func TestStreamErrors(t *testing.T) {
	tests := []struct {
		name, text string
		want       []string
	}{
		{"no port in upstream server", "stream { upstream u { server 127.0.0.1; } server { listen 1; proxy_pass u; } }",
			[]string{`1:30: no port in upstream server "127.0.0.1": a stream upstream server is HOST:PORT, e.g. server 127.0.0.1:5432;`}},
		{"scheme in proxy_pass", "stream { server { listen 1; proxy_pass http://a:1; } }",
			[]string{`1:40: invalid address "http://a:1": a stream proxy_pass has no scheme; write "proxy_pass a:1;"`}},
		{"unknown group", "stream { upstream back { server 127.0.0.1:1; } server { listen 1; proxy_pass bakc; } }",
			[]string{`1:67: host not found in upstream "bakc": no stream upstream is named "bakc"; did you mean "back"?`}},
		{"no proxy_pass", "stream { server { listen 1; } }",
			[]string{`1:10: no "proxy_pass" in this stream server: add proxy_pass UPSTREAM; or proxy_pass HOST:PORT; (or return TEXT;)`}},
		{"return and proxy_pass", "stream { server { listen 1; return x; proxy_pass 127.0.0.1:1; } }",
			[]string{`1:39: a stream server either proxies or returns: remove "proxy_pass" or "return"`}},
		{"return alone", "stream { server { listen 1; return $remote_addr; } }", nil},
		{"set built-in", "stream { server { listen 1; set $remote_addr x; return x; } }",
			[]string{`1:33: "$remote_addr" is a built-in variable and cannot be set`}},
		{"set used elsewhere", "stream { log_format f '$x'; server { listen 1; set $x 1; return $x; } }", nil},
		{"no listen", "stream { server { proxy_pass 127.0.0.1:1; } }",
			[]string{`1:10: no "listen" is defined for this stream server: add e.g. listen 12345;`}},
		{"duplicate listen", "stream { server { listen 1; proxy_pass 127.0.0.1:1; } server { listen 1; proxy_pass 127.0.0.1:1; } }",
			[]string{`1:64: duplicate ":1" address and port pair (first at line 1): a stream address belongs to one server`}},
		{"udp and tcp on one port", "stream { server { listen 1; listen 1 udp; proxy_pass 127.0.0.1:1; } }", nil},
		{"unknown variable", "stream { upstream u { hash $remot_addr; server 127.0.0.1:1; } server { listen 1; proxy_pass u; } }",
			[]string{`1:23: unknown "remot_addr" variable in hash: did you mean "$remote_addr"?`}},
		{"missing zone", "stream { server { listen 1; proxy_pass 127.0.0.1:1; limit_conn z 1; } }",
			[]string{`1:10: no limit_conn_zone "z" is defined: add limit_conn_zone $binary_remote_addr zone=z:10m; to the stream block`}},
		{"access_log without format", "stream { server { listen 1; proxy_pass 127.0.0.1:1; access_log /tmp/x; } }",
			[]string{`1:53: access_log in stream needs a format: write access_log /tmp/x basic; (stream has no default format)`}},
		{"http directive in stream", "stream { server { listen 1; proxy_pass 127.0.0.1:1; location / { } } }",
			[]string{`1:53: "location" directive is not allowed in a "stream server" block; it belongs in server or location`}},
		{"stream directive in http", "http { server { ssl_preread on; } }",
			[]string{`1:17: "ssl_preread" directive is not allowed in a "server" block; it belongs in stream or stream server`}},
		{"sticky is http only", "stream { upstream u { server 127.0.0.1:1; sticky cookie a; } server { listen 1; proxy_pass u; } }",
			[]string{`1:43: "sticky" directive is not allowed in a "stream upstream" block; it belongs in upstream`}},
		{"stream least_time", "stream { upstream u { least_time header; server 127.0.0.1:1; } server { listen 1; proxy_pass u; } }",
			[]string{`1:34: invalid parameter "header": write least_time connect|first_byte|last_byte [inflight]`}},
		{"udp with ssl", "stream { server { listen 1 udp ssl; proxy_pass 127.0.0.1:1; } }",
			[]string{`1:19: "ssl" parameter is incompatible with "udp": remove one of them`}},
		{"udp with backlog", "stream { server { listen 1 udp backlog=10; proxy_pass 127.0.0.1:1; } }",
			[]string{`1:19: "backlog" parameter is incompatible with "udp": remove one of them`}},
		{"udp with so_keepalive", "stream { server { listen 1 udp so_keepalive=on; proxy_pass 127.0.0.1:1; } }",
			[]string{`1:19: "so_keepalive" parameter is incompatible with "udp": remove one of them`}},
		{"deferred is http only", "stream { server { listen 1 deferred; proxy_pass 127.0.0.1:1; } }",
			[]string{`1:28: invalid parameter "deferred" in listen: a stream listen takes udp, ssl, proxy_protocol, reuseport, backlog=, rcvbuf=, sndbuf=, fastopen=, so_keepalive=, ipv6only= and bind`}},
		{"stream socket parameters", "stream { server { listen [::]:1 ipv6only=off rcvbuf=64k sndbuf=1m so_keepalive=1m:10s:3 backlog=100 fastopen=16 reuseport bind; proxy_pass 127.0.0.1:1; } }", nil},
		{"bad allow", "stream { server { listen 1; proxy_pass 127.0.0.1:1; allow 10.0.0.300; } }",
			[]string{`1:59: invalid address "10.0.0.300": write an IP address or a CIDR block such as 10.0.0.0/8`}},
		{"ssl without cert", "stream { server { listen 1 ssl; proxy_pass 127.0.0.1:1; } }",
			[]string{`1:19: no "ssl_certificate" is defined for the "listen ... ssl" directive: add ssl_certificate and ssl_certificate_key to this server`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, got := loadText(t, tt.text)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("errors:\n got: %q\nwant: %q", got, tt.want)
			}
		})
	}
}

func TestVarNames(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		bad  bool
	}{
		{"$remote_addr", []string{"remote_addr"}, false},
		{"${a}b$c:$d", []string{"a", "c", "d"}, false},
		{"plain", nil, false},
		{"$", nil, true},
		{"${a", nil, true},
	}
	for _, tt := range tests {
		got, bad := VarNames(tt.in)
		if !reflect.DeepEqual(got, tt.want) || bad != tt.bad {
			t.Errorf("VarNames(%q) = %q %v, want %q %v", tt.in, got, bad, tt.want, tt.bad)
		}
	}
}

// TestStreamSample loads the parser's stream sample (every stream feature
// nginx users reach for first) without an error.
func TestStreamSample(t *testing.T) {
	m, _, err := Load(Options{Prefix: t.TempDir() + "/", File: "../conf/testdata/stream.conf"})
	if err != nil {
		t.Fatal(err)
	}
	st := m.Stream
	if len(st.Servers) != 2 || len(st.Upstreams) != 2 || st.Map("tls_upstream") == nil || !st.Servers[0].Listens[0].UDP {
		t.Errorf("stream: %+v", st)
	}
	if p := st.Servers[1].Proxy; !p.SSLPreread || !p.ProxyProtocol || p.Pass.Var != true || p.ConnectTimeout != time.Second {
		t.Errorf("second server: %+v", p)
	}
}
