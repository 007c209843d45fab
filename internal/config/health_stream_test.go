package config

import (
	"strings"
	"testing"
	"time"
)

func TestStreamHealthCheck(t *testing.T) {
	h, errs := healthLoad(t, `stream {
  health_check_timeout 3s;
  match redis { send "PING\r\n"; expect ~ "^\+PONG"; }
  match dns { send "\x00\x01"; expect "\x00\x01"; }
  upstream db { server 127.0.0.1:6379; }
  upstream ns { server 127.0.0.1:5353; }
  server { listen 127.0.0.1:7000; proxy_pass db; health_check interval=2s fails=2 match=redis; }
  server { listen 127.0.0.1:7001 udp; proxy_pass ns; health_check udp match=dns; health_check_timeout 1s; }
  server { listen 127.0.0.1:7002; proxy_pass db; health_check mandatory persistent port=6380; }
}`)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if len(h.Checks) != 3 {
		t.Fatalf("%d checks", len(h.Checks))
	}
	tcp, udp, plain := h.Checks[0], h.Checks[1], h.Checks[2]
	if !tcp.Stream || tcp.Type != CheckTCP || tcp.Group != "db" || tcp.Interval != 2*time.Second || tcp.Fails != 2 || tcp.ConnectTimeout != 3*time.Second {
		t.Errorf("tcp check %+v", tcp)
	}
	if m := tcp.MatchBlock; m == nil || string(m.Send) != "PING\r\n" || m.ExpectRe == nil || !m.ExpectRe.MatchString("+PONG") {
		t.Errorf("redis match %+v", tcp.MatchBlock)
	}
	if udp.Type != CheckUDP || udp.Group != "ns" || udp.ReadTimeout != time.Second || string(udp.MatchBlock.Expect) != "\x00\x01" {
		t.Errorf("udp check %+v", udp)
	}
	if !plain.Mandatory || !plain.Persistent || plain.CheckAddr("127.0.0.1:6379") != "127.0.0.1:6380" || plain.MatchBlock != nil {
		t.Errorf("plain check %+v", plain)
	}
	if got := h.GroupChecks("db", true); len(got) != 2 {
		t.Errorf("GroupChecks(db) = %d", len(got))
	}
	if got := h.GroupChecks("db", false); len(got) != 0 {
		t.Errorf("http namespace sees stream checks")
	}
}

func TestStreamHealthErrors(t *testing.T) {
	srv := func(body string) string {
		return "stream {\n upstream db { server 127.0.0.1:6379; }\n server { listen 127.0.0.1:7000; " + body + " }\n}"
	}
	tests := []struct {
		name, text, want string
	}{
		{"uri in stream", srv("proxy_pass db; health_check uri=/;"), `invalid parameter "uri=/": a stream health_check takes`},
		{"no match", srv("proxy_pass db; health_check match=nope;"), `match "nope" is not defined: add a "match nope { ... }" block to stream`},
		{"http match not seen", "http { match m { status 200; } }\n" + srv("proxy_pass db; health_check match=m;"), `match "m" is not defined`},
		{"udp without send", "stream { match m { expect \"x\"; } upstream db { server 127.0.0.1:1; } server { listen 127.0.0.1:7000 udp; proxy_pass db; health_check udp match=m; } }", `has no "send"`},
		{"no group", srv("proxy_pass 127.0.0.1:9; health_check;"), `needs a stream server that proxies to an upstream group`},
		{"bad send", "stream { match m { send \"\\xZZ\"; } }", `\x takes two hex digits`},
		{"http line in stream match", "stream { match m { status 200; } }", `unknown line "status" in match block: a stream match takes send and expect`},
		{"empty stream match", "stream { match m { } }", `match "m" tests nothing`},
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
