package h1client

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"bunsan/internal/testutil/hammer"
)

// TestExtraBytesNeverReachNextRequest: a backend that sends a second,
// smuggled response after the declared length; every later request must
// get its own answer, sequentially and concurrently.
func TestExtraBytesNeverReachNextRequest(t *testing.T) {
	be := scripted(t, func(req *http.Request) (string, bool) {
		if req.URL.Path == "/long" {
			return "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nsmuggled", false
		}
		return honest, false
	})
	p := New(Options{})
	defer p.Close()
	check := func(path, want string) error {
		resp, _, err := get(t, p, be.addr, "GET", path)
		if err != nil {
			return err
		}
		if body, err := readAll(resp); err != nil || body != want {
			return errors.New(path + " got " + body)
		}
		return nil
	}
	hammer.Pairs(t, check, [][2]string{{"/long", "ok"}, {"/ok", "honest"}}, 100, 8, 20)
}

// TestStaleIdleConnection: the backend closes a kept-alive connection; the
// next request succeeds on a new one, whether the idle check sees the
// close or the request fails on the old connection and is sent again.
func TestStaleIdleConnection(t *testing.T) {
	closed := make(chan struct{}, 1)
	be := newRaw(t, func(c net.Conn, br *bufio.Reader) {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		io.Copy(io.Discard, req.Body)
		io.WriteString(c, honest)
		c.Close()
		closed <- struct{}{}
	})
	p := New(Options{})
	defer p.Close()
	for i := 0; i < 3; i++ {
		resp, _, err := get(t, p, be.addr, "GET", "/")
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if body, err := readAll(resp); err != nil || body != "honest" {
			t.Fatalf("request %d: %q %v", i, body, err)
		}
		<-closed
	}
}

// TestRetryOnReusedConnection: a backend that reads the second request of
// a connection and closes without answering. A request that is safe to
// send again (idempotent, body replayable) is, once, on a new
// connection; a POST that reached the backend, or a body that is gone,
// is not.
func TestRetryOnReusedConnection(t *testing.T) {
	cases := []struct {
		method     string
		replayable bool
		retried    bool
	}{
		{"GET", true, true},
		{"PUT", true, true},
		{"PUT", false, false},
		{"POST", true, false},
	}
	for _, tc := range cases {
		be := newRaw(t, func(c net.Conn, br *bufio.Reader) {
			for n := 0; ; n++ {
				req, err := http.ReadRequest(br)
				if err != nil {
					return
				}
				b, _ := io.ReadAll(req.Body)
				if n == 1 {
					return
				}
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: "+strconv.Itoa(len(b))+"\r\n\r\n"+string(b))
			}
		})
		p := New(Options{})
		send := func(body string) (string, Info, error) {
			var rd io.Reader
			if tc.method != "GET" {
				rd = strings.NewReader(body)
			}
			req := newReq(tc.method, "/", "b", rd)
			if !tc.replayable {
				req.GetBody = nil
			}
			resp, info, err := p.RoundTrip(context.Background(), be.addr, req)
			if err != nil {
				return "", info, err
			}
			s, err := readAll(resp)
			return s, info, err
		}
		if _, _, err := send("one"); err != nil {
			t.Fatalf("%s first: %v", tc.method, err)
		}
		_, info, err := send("two")
		if retried := err == nil && !info.Reused; retried != tc.retried || (err == nil) != tc.retried {
			t.Errorf("%s (replayable %v) on a dead connection: %+v %v, want retried %v", tc.method, tc.replayable, info, err, tc.retried)
		}
		p.Close()
	}
}

// TestKeepaliveRequests: a connection serves at most MaxRequestsPerConn
// requests.
func TestKeepaliveRequests(t *testing.T) {
	be := scripted(t, func(*http.Request) (string, bool) { return honest, false })
	p := New(Options{MaxRequestsPerConn: 3})
	defer p.Close()
	for i := 0; i < 7; i++ {
		resp, _, err := get(t, p, be.addr, "GET", "/")
		if err != nil {
			t.Fatal(err)
		}
		readAll(resp)
	}
	if n := be.accepted.Load(); n != 3 {
		t.Errorf("7 requests used %d connections, want 3", n)
	}
}

// TestMaxIdlePerHost: a full idle stack drops its oldest connection.
func TestMaxIdlePerHost(t *testing.T) {
	be := scripted(t, func(*http.Request) (string, bool) { return honest, false })
	p := New(Options{MaxIdlePerHost: 2})
	defer p.Close()
	var open []*http.Response
	for i := 0; i < 4; i++ {
		resp, _, err := get(t, p, be.addr, "GET", "/")
		if err != nil {
			t.Fatal(err)
		}
		open = append(open, resp) // bodies unread: four connections in use
	}
	for _, resp := range open {
		readAll(resp)
	}
	if n := p.IdleConns(be.addr); n != 2 {
		t.Errorf("%d idle connections, want 2", n)
	}
}

// TestIdleTimeout: the reaper and take both retire connections idle for
// longer than IdleTimeout (their idle time is set back, not waited for).
func TestIdleTimeout(t *testing.T) {
	be := scripted(t, func(*http.Request) (string, bool) { return honest, false })
	p := New(Options{IdleTimeout: time.Hour})
	defer p.Close()
	age := func() {
		p.mu.Lock()
		for _, idle := range p.hosts {
			for _, c := range idle {
				c.idleSince = c.idleSince.Add(-2 * time.Hour)
			}
		}
		p.mu.Unlock()
	}
	resp, _, _ := get(t, p, be.addr, "GET", "/")
	readAll(resp)
	age()
	p.reap()
	if n := p.IdleConns(be.addr); n != 0 {
		t.Fatalf("reaper left %d idle connections", n)
	}
	resp, _, _ = get(t, p, be.addr, "GET", "/")
	readAll(resp)
	age()
	resp, info, err := get(t, p, be.addr, "GET", "/")
	if err != nil {
		t.Fatal(err)
	}
	readAll(resp)
	if info.Reused {
		t.Error("a connection idle for longer than IdleTimeout was reused")
	}
}

// TestIdleCheck: the idle check (a MSG_PEEK read) runs before a request
// that cannot be sent again and on any connection idle for trustIdle or
// more; a retryable request on a connection returned moments ago skips
// it (see idleClean). The backend here sent bytes while the connection
// sat idle, as one may before closing it.
func TestIdleCheck(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	be, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer be.Close()
	if _, err := io.WriteString(be, "HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	// Wait, in the poller, until the bytes are there.
	rc, err := nc.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var b [1]byte
	if err := rc.Read(func(fd uintptr) bool {
		_, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		return err != syscall.EAGAIN
	}); err != nil {
		t.Fatal(err)
	}
	p := New(Options{})
	defer p.Close()
	c := newConn(p, ln.Addr().String(), nc, nc)
	c.idleSince = time.Now()
	for _, tc := range []struct {
		name      string
		idle      time.Duration
		retryable bool
		clean     bool
	}{
		{"retryable, returned just now: not checked", trustIdle / 2, true, true},
		{"not retryable: checked", trustIdle / 2, false, false},
		{"retryable, idle longer: checked", 2 * trustIdle, true, false},
	} {
		if got := c.idleClean(c.idleSince.Add(tc.idle), tc.retryable); got != tc.clean {
			t.Errorf("%s: idleClean = %v, want %v", tc.name, got, tc.clean)
		}
	}
	for _, tc := range []struct {
		method string
		body   io.Reader
		want   bool
	}{
		{"GET", nil, true},
		{"HEAD", nil, true},
		{"PUT", strings.NewReader("x"), true}, // newReq sets GetBody
		{"POST", strings.NewReader("x"), false},
	} {
		if got := retryable(newReq(tc.method, "/", "b", tc.body)); got != tc.want {
			t.Errorf("retryable(%s) = %v, want %v", tc.method, got, tc.want)
		}
	}
	noReplay := newReq("PUT", "/", "b", strings.NewReader("x"))
	noReplay.GetBody = nil
	if retryable(noReplay) {
		t.Error("a PUT whose body cannot be read again is retryable")
	}
}
