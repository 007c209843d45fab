package health

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"
	"time"

	"bunsan/internal/config"
)

func TestProbeHTTPMatch(t *testing.T) {
	b := newBackend(t, "ok: all good")
	tests := []struct {
		name   string
		status int32
		body   string
		match  *config.Match
		uri    string
		ok     bool
	}{
		{"default 200", 200, "", nil, "/", true},
		{"default 301", 301, "", nil, "/", true},
		{"default 500", 500, "", nil, "/", false},
		{"status range", 204, "", &config.Match{Status: []config.StatusRange{{Lo: 200, Hi: 204}}}, "/", true},
		{"status out of range", 404, "", &config.Match{Status: []config.StatusRange{{Lo: 200, Hi: 399}}}, "/", false},
		{"status not", 503, "", &config.Match{Status: []config.StatusRange{{Lo: 500, Hi: 502}}, StatusNot: true}, "/", true},
		{"status not hit", 500, "", &config.Match{Status: []config.StatusRange{{Lo: 500, Hi: 502}}, StatusNot: true}, "/", false},
		{"header present", 200, "", &config.Match{Headers: []config.HeaderTest{{Name: "x-backend"}}}, "/", true},
		{"header absent", 200, "", &config.Match{Headers: []config.HeaderTest{{Name: "X-Nope", Op: "!"}}}, "/", true},
		{"header equal", 200, "", &config.Match{Headers: []config.HeaderTest{{Name: "X-Backend", Op: "=", Value: "other"}}}, "/", false},
		{"header regex", 200, "hello", &config.Match{Headers: []config.HeaderTest{{Name: "Content-Type", Op: "~", Re: regexp.MustCompile("^text/")}}}, "/", true},
		{"header not regex", 200, "", &config.Match{Headers: []config.HeaderTest{{Name: "Content-Type", Op: "!~", Re: regexp.MustCompile("json")}}}, "/", true},
		{"body", 200, "status: ok", &config.Match{Body: regexp.MustCompile("ok")}, "/", true},
		{"body miss", 200, "status: down", &config.Match{Body: regexp.MustCompile("ok")}, "/", false},
		{"body not", 200, "maintenance", &config.Match{Body: regexp.MustCompile("maintenance"), BodyNot: true}, "/", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b.status.Store(tt.status)
			body := tt.body
			b.body.Store(&body)
			c := httpCheck(func(c *config.HealthCheck) { c.MatchBlock, c.URI = tt.match, tt.uri })
			err := probe(context.Background(), c, b.addr())
			if (err == nil) != tt.ok {
				t.Errorf("probe: %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

// uri=, port= and the Host header reach the server checked.
func TestProbeHTTPRequest(t *testing.T) {
	got := make(chan *http.Request, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got <- r }))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	c := httpCheck(func(c *config.HealthCheck) { c.URI, c.Host = "/healthz?full=1", "backend" })
	c.Port = atoi(t, port)
	// The server's own port is closed: port= is what is checked.
	if err := probe(context.Background(), c, c.CheckAddr(refused(t))); err != nil {
		t.Fatal(err)
	}
	r := <-got
	if r.URL.RequestURI() != "/healthz?full=1" || r.Host != "backend" || r.Method != "GET" {
		t.Errorf("request %s %s Host %s", r.Method, r.URL.RequestURI(), r.Host)
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// A server that accepts and never answers fails by the check's own read
// timeout, not the data path's.
func TestProbeTimeout(t *testing.T) {
	b := newBackend(t, "stuck")
	b.block = make(chan struct{})
	defer close(b.block)
	c := httpCheck(func(c *config.HealthCheck) { c.ReadTimeout = 50 * time.Millisecond })
	if err := probe(context.Background(), c, b.addr()); err == nil {
		t.Fatal("a server that never answers passed")
	}
	tc := &config.HealthCheck{Type: config.CheckTCP, ConnectTimeout: time.Second, ReadTimeout: 50 * time.Millisecond,
		MatchBlock: &config.Match{Send: []byte("x"), Expect: []byte("y")}}
	if err := probe(context.Background(), tc, b.addr()); err == nil {
		t.Fatal("a stream server that never answers passed")
	}
}

// tcpServer answers each line it reads with reply(line).
func tcpServer(t *testing.T, reply func(string) string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				line, err := bufio.NewReader(c).ReadString('\n')
				if err == nil {
					c.Write([]byte(reply(line)))
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func TestProbeStream(t *testing.T) {
	redis := tcpServer(t, func(l string) string {
		if l == "PING\r\n" {
			return "+PONG\r\n"
		}
		return "-ERR\r\n"
	})
	closed := refused(t)
	tests := []struct {
		name  string
		addr  string
		match *config.Match
		ok    bool
	}{
		{"connect", redis, nil, true},
		{"refused", closed, nil, false},
		{"send expect", redis, &config.Match{Send: []byte("PING\r\n"), Expect: []byte("+PONG")}, true},
		{"send expect regex", redis, &config.Match{Send: []byte("PING\r\n"), ExpectRe: regexp.MustCompile(`^\+PO`)}, true},
		{"wrong answer", redis, &config.Match{Send: []byte("QUIT\r\n"), Expect: []byte("+PONG")}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &config.HealthCheck{Type: config.CheckTCP, ConnectTimeout: hang, ReadTimeout: hang, MatchBlock: tt.match}
			if err := probe(context.Background(), c, tt.addr); (err == nil) != tt.ok {
				t.Errorf("probe: %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

// udpServer answers "ping" with "pong" and anything else with nothing.
func udpServer(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if string(buf[:n]) == "ping" {
				pc.WriteTo([]byte("pong"), from)
			}
		}
	}()
	return pc.LocalAddr().String()
}

func TestProbeUDP(t *testing.T) {
	srv := udpServer(t)
	pc, _ := net.ListenPacket("udp", "127.0.0.1:0")
	gone := pc.LocalAddr().String()
	pc.Close()
	tests := []struct {
		name  string
		addr  string
		match *config.Match
		ok    bool
	}{
		{"expect", srv, &config.Match{Send: []byte("ping"), Expect: []byte("pong")}, true},
		{"wrong expect", srv, &config.Match{Send: []byte("ping"), Expect: []byte("PONG")}, false},
		{"port unreachable", gone, &config.Match{Send: []byte("ping"), Expect: []byte("pong")}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &config.HealthCheck{Type: config.CheckUDP, ConnectTimeout: hang, ReadTimeout: hang, MatchBlock: tt.match}
			if err := probe(context.Background(), c, tt.addr); (err == nil) != tt.ok {
				t.Errorf("probe: %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

// grpcServer is a cleartext HTTP/2 server answering the health service
// with the given serving status, or with grpc-status code.
func grpcServer(t *testing.T, serving byte, code string) string {
	t.Helper()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != grpcCheckPath || r.ProtoMajor != 2 {
			w.WriteHeader(404)
			return
		}
		w.Header().Set("Content-Type", "application/grpc")
		w.Header().Set("Trailer", "Grpc-Status")
		if code == "0" {
			w.Write([]byte{0, 0, 0, 0, 2, 0x08, serving})
		}
		w.Header().Set("Grpc-Status", code)
	})
	srv := httptest.NewUnstartedServer(h)
	srv.Config.Protocols = new(http.Protocols)
	srv.Config.Protocols.SetUnencryptedHTTP2(true)
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

func TestProbeGRPC(t *testing.T) {
	tests := []struct {
		name       string
		serving    byte
		code       string
		grpcStatus int
		ok         bool
	}{
		{"serving", 1, "0", -1, true},
		{"not serving", 2, "0", -1, false},
		{"unimplemented", 0, "12", -1, false},
		{"unimplemented accepted", 0, "12", 12, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := grpcServer(t, tt.serving, tt.code)
			c := httpCheck(func(c *config.HealthCheck) { c.Type, c.GRPCStatus = config.CheckGRPC, tt.grpcStatus })
			if err := probe(context.Background(), c, addr); (err == nil) != tt.ok {
				t.Errorf("probe: %v, want ok=%v", err, tt.ok)
			}
		})
	}
	if got := grpcRequest("app"); string(got) != "\x00\x00\x00\x00\x05\x0a\x03app" {
		t.Errorf("request frame %q", got)
	}
}

// A stream group's TCP check takes a server out when its port closes and
// back when it listens again.
func TestStreamCheckRecovers(t *testing.T) {
	r := newRig(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	g := r.group(t, "db", 0, addr)
	check := &config.HealthCheck{Stream: true, Type: config.CheckTCP, Group: "db", Interval: time.Second, Fails: 1, Passes: 1,
		GRPCStatus: -1, ConnectTimeout: hang, ReadTimeout: hang}
	r.checker.Start([]Target{{Check: check, Group: g}})
	if res := r.next(t); !res.OK || !res.Stream {
		t.Fatalf("listening server: %+v", res)
	}
	ln.Close()
	r.clock.Step(t)
	if res := r.next(t); res.OK || g.Peers()[0].Healthy() {
		t.Fatalf("closed port still healthy: %+v", res)
	}
	ln2, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("port %s taken meanwhile: %v", addr, err)
	}
	defer ln2.Close()
	r.clock.Step(t)
	if res := r.next(t); !res.OK || !g.Peers()[0].Healthy() {
		t.Fatalf("listening again: %+v", res)
	}
	if st, ok := r.checker.Status(true, "db", addr); !ok || st.Checks != 3 || st.Unhealthy != 1 {
		t.Errorf("status %+v", st)
	}
	if _, ok := r.checker.Status(false, "db", addr); ok {
		t.Error("a stream group's state shows under http")
	}
}

// A UDP check with nothing to expect passes when the server stays silent
// (only "port unreachable" fails).
func TestProbeUDPSilent(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	c := &config.HealthCheck{Type: config.CheckUDP, ConnectTimeout: hang, ReadTimeout: 50 * time.Millisecond,
		MatchBlock: &config.Match{Send: []byte("ping")}}
	if err := probe(context.Background(), c, pc.LocalAddr().String()); err != nil {
		t.Errorf("silent server: %v", err)
	}
}
