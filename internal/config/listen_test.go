package config

import (
	"reflect"
	"testing"
	"time"
)

func TestListenSocket(t *testing.T) {
	tests := []struct {
		name, listen string
		want         Socket
		err          string
	}{
		{"none", "listen 80;", Socket{}, ""},
		{"reuseport", "listen 80 reuseport;", Socket{Given: true, ReusePort: true}, ""},
		{"all", "listen [::]:80 default_server backlog=511 rcvbuf=64k sndbuf=1m deferred fastopen=256 so_keepalive=on ipv6only=off bind;",
			Socket{Given: true, Backlog: 511, RcvBuf: 64 << 10, SndBuf: 1 << 20, Deferred: true, FastOpen: 256, KeepAlive: &KeepAlive{}, DualStack: true}, ""},
		{"keepalive times", "listen 80 so_keepalive=30m::10;", Socket{Given: true, KeepAlive: &KeepAlive{Idle: 30 * time.Minute, Count: 10}}, ""},
		{"keepalive all", "listen 80 so_keepalive=1h:10s:3;", Socket{Given: true, KeepAlive: &KeepAlive{Idle: time.Hour, Interval: 10 * time.Second, Count: 3}}, ""},
		{"keepalive off", "listen 80 so_keepalive=off;", Socket{Given: true}, ""},
		{"ipv6only on", "listen [::]:80 ipv6only=on;", Socket{Given: true}, ""},
		{"bad backlog", "listen 80 backlog=x;", Socket{}, `1:27: invalid backlog "backlog=x" in listen: it must be a whole number`},
		{"bad rcvbuf", "listen 80 rcvbuf=lots;", Socket{}, `1:27: invalid rcvbuf size "rcvbuf=lots" in listen: write bytes, e.g. rcvbuf=64k`},
		{"zero sndbuf", "listen 80 sndbuf=0;", Socket{}, `1:27: invalid sndbuf size "sndbuf=0" in listen: write bytes, e.g. sndbuf=64k`},
		{"bad keepalive", "listen 80 so_keepalive=yes;", Socket{}, `1:27: invalid so_keepalive value "yes": write on, off or idle:interval:count (e.g. 30m::10)`},
		{"keepalive count", "listen 80 so_keepalive=::x;", Socket{}, `1:27: invalid so_keepalive value "::x": write on, off or idle:interval:count (e.g. 30m::10)`},
		{"bad ipv6only", "listen 80 ipv6only=yes;", Socket{}, `1:27: invalid ipv6only "ipv6only=yes" in listen: write ipv6only=on or ipv6only=off`},
		{"unknown", "listen 80 fast;", Socket{}, `1:27: invalid parameter "fast" in listen: supported are default_server, ssl, http2, reuseport, backlog=, rcvbuf=, sndbuf=, deferred, fastopen=, so_keepalive=, ipv6only= and bind`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, errs := loadText(t, "http { server { "+tt.listen+" } }")
			if tt.err != "" {
				if len(errs) != 1 || errs[0] != tt.err {
					t.Fatalf("errors %q, want %q", errs, tt.err)
				}
				return
			}
			if len(errs) > 0 {
				t.Fatalf("errors: %q", errs)
			}
			if got := m.HTTP.Servers[0].Listens[0].Socket; !reflect.DeepEqual(got, tt.want) {
				t.Errorf("socket %+v, want %+v", got, tt.want)
			}
		})
	}
}

// nginx: "duplicate listen options for ADDR" when two listen directives
// of one address both set socket parameters; other listens share it.
func TestListenSocketOncePerAddress(t *testing.T) {
	_, errs := loadText(t, `http {
server { listen 8080 reuseport; }
server { listen 8080 default_server; listen 8081; }
server { listen 8080 backlog=10; listen 8081 deferred; }
}`)
	want := []string{`4:10: duplicate listen options for :8080 (first set at line 2): socket parameters such as reuseport, backlog= or deferred go on one listen directive per address`}
	if !reflect.DeepEqual(errs, want) {
		t.Errorf("errors:\n got: %q\nwant: %q", errs, want)
	}
}
