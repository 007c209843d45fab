package process

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"bunsan/internal/config"
	"bunsan/internal/testutil/nginxtest"
)

func sockopt(t *testing.T, c syscall.Conn, level, opt int) int {
	t.Helper()
	rc, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var v int
	var gerr error
	if err := rc.Control(func(fd uintptr) { v, gerr = unix.GetsockoptInt(int(fd), level, opt) }); err != nil || gerr != nil {
		t.Fatal(err, gerr)
	}
	return v
}

// The listen parameters land on the socket, accepted connections inherit
// so_keepalive and the buffers, and a reload that drops them turns them
// off again.
func TestListenSocketParameters(t *testing.T) {
	so := config.Socket{Given: true, Deferred: true, FastOpen: 16, Backlog: 7, RcvBuf: 64 << 10, SndBuf: 96 << 10,
		KeepAlive: &config.KeepAlive{Idle: 10 * time.Minute, Interval: 20 * time.Second, Count: 4}}
	ln, err := listen("127.0.0.1:0", so)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	tl := ln.(*net.TCPListener)
	if v := sockopt(t, tl, unix.IPPROTO_TCP, unix.TCP_DEFER_ACCEPT); v == 0 {
		t.Error("deferred: TCP_DEFER_ACCEPT is off")
	}
	if v := sockopt(t, tl, unix.IPPROTO_TCP, unix.TCP_FASTOPEN); v != 16 {
		t.Errorf("fastopen: TCP_FASTOPEN = %d, want 16", v)
	}
	accepted := func() *net.TCPConn {
		t.Helper()
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		// A deferred socket hands over a connection once data came.
		if _, err := c.Write([]byte("x")); err != nil {
			t.Fatal(err)
		}
		a, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { a.Close() })
		return a.(*net.TCPConn)
	}
	a := accepted()
	for _, c := range []struct {
		name       string
		level, opt int
		want       int
	}{
		{"SO_KEEPALIVE", unix.SOL_SOCKET, unix.SO_KEEPALIVE, 1},
		{"TCP_KEEPIDLE", unix.IPPROTO_TCP, unix.TCP_KEEPIDLE, 600},
		{"TCP_KEEPINTVL", unix.IPPROTO_TCP, unix.TCP_KEEPINTVL, 20},
		{"TCP_KEEPCNT", unix.IPPROTO_TCP, unix.TCP_KEEPCNT, 4},
	} {
		if v := sockopt(t, a, c.level, c.opt); v != c.want {
			t.Errorf("accepted connection: %s = %d, want %d", c.name, v, c.want)
		}
	}
	// The kernel doubles what it is given, for its own bookkeeping.
	if v := sockopt(t, a, unix.SOL_SOCKET, unix.SO_RCVBUF); v != 2*so.RcvBuf {
		t.Errorf("accepted connection: SO_RCVBUF = %d, want %d", v, 2*so.RcvBuf)
	}
	if v := sockopt(t, a, unix.SOL_SOCKET, unix.SO_SNDBUF); v != 2*so.SndBuf {
		t.Errorf("accepted connection: SO_SNDBUF = %d, want %d", v, 2*so.SndBuf)
	}

	cur := so
	if err := retune(ln, &cur, config.Socket{}); err != nil {
		t.Fatal(err)
	}
	if v := sockopt(t, tl, unix.IPPROTO_TCP, unix.TCP_DEFER_ACCEPT); v != 0 {
		t.Errorf("after reload without deferred: TCP_DEFER_ACCEPT = %d", v)
	}
	if v := sockopt(t, accepted(), unix.SOL_SOCKET, unix.SO_KEEPALIVE); v != 0 {
		t.Error("after reload without so_keepalive: accepted connections still probe")
	}
}

// freePort is a port nothing listens on now (on loopback).
func freePort(t *testing.T) string {
	_, port, _ := net.SplitHostPort(freeAddr(t))
	return port
}

// "listen 80; listen [::]:80;" (Debian's default site) is two sockets, an
// IPv4 and an IPv6-only one, as in nginx; "ipv6only=off" makes the IPv6
// socket take both.
func TestListenAddressFamilies(t *testing.T) {
	if ln, err := net.Listen("tcp6", "[::1]:0"); err != nil {
		t.Skip("no IPv6 loopback:", err)
	} else {
		ln.Close()
	}
	get := func(url string) string { return nginxtest.Get(t, http.DefaultClient, url) }
	dir := t.TempDir()
	server := func(text string, listens ...config.Listen) *config.Server {
		return &config.Server{Listens: listens, Locations: []*config.Location{{Path: "/", Return: &config.Return{Code: 200, Text: text}}}}
	}

	srv := NewServer(slog.New(slog.NewTextHandler(io.Discard, nil)))
	defer srv.Close()
	port := freePort(t)
	m := &config.Model{HTTP: &config.HTTP{Servers: []*config.Server{
		server("v4", config.Listen{Addr: ":" + port}),
		server("v6", config.Listen{Addr: "[::]:" + port}),
	}}, Prefix: dir + "/"}
	if err := srv.Apply(m); err != nil {
		t.Fatal(err)
	}
	if got := get("http://127.0.0.1:" + port + "/"); got != "v4" {
		t.Errorf("127.0.0.1 answered by %q, want the listen %s server", got, port)
	}
	if got := get("http://[::1]:" + port + "/"); got != "v6" {
		t.Errorf("[::1] answered by %q, want the listen [::]:%s server", got, port)
	}

	port = freePort(t)
	m = &config.Model{HTTP: &config.HTTP{Servers: []*config.Server{
		server("both", config.Listen{Addr: "[::]:" + port, Socket: config.Socket{Given: true, DualStack: true}}),
	}}, Prefix: dir + "/"}
	if err := srv.Apply(m); err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{"127.0.0.1", "[::1]"} {
		if got := get("http://" + host + ":" + port + "/"); got != "both" {
			t.Errorf("%s with ipv6only=off answered %q", host, got)
		}
	}
}
