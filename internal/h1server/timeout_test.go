package h1server

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"runtime"
	"sync"
	"testing"
	"time"
)

// TestSlowlorisDoesNotBlockOthers: many connections sending a partial
// head are closed by client_header_timeout, while a normal client is
// served meanwhile.
func TestSlowlorisDoesNotBlockOthers(t *testing.T) {
	lim := DefaultLimits()
	lim.HeaderTimeout = time.Second
	ts := startServer(t, echo, lim)
	const slow = 500
	var wg sync.WaitGroup
	closed := make(chan bool, slow)
	for i := 0; i < slow; i++ {
		c := ts.dial(t)
		c.SetDeadline(time.Now().Add(20 * time.Second)) // bounds a broken test
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: a\r\nX-Slow: ")
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.Read(make([]byte, 1))
			closed <- err != nil && !isTimeout(err)
		}()
	}
	for i := 0; i < 20; i++ {
		c := ts.dial(t)
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
		if resp, _ := readResponse(t, bufio.NewReader(c), "GET"); resp.StatusCode != 200 {
			t.Fatalf("normal request %d: %d", i, resp.StatusCode)
		}
	}
	wg.Wait()
	close(closed)
	for ok := range closed {
		if !ok {
			t.Fatal("a slow connection was not closed by client_header_timeout")
		}
	}
}

// TestHeaderTimeoutOnKeptAliveConnection: client_header_timeout bounds a
// later head too, from its first byte, not only keepalive_timeout.
func TestHeaderTimeoutOnKeptAliveConnection(t *testing.T) {
	lim := DefaultLimits()
	lim.HeaderTimeout, lim.IdleTimeout = 200*time.Millisecond, time.Minute
	ts := startServer(t, echo, lim)
	for _, parked := range []bool{false, true} {
		if parked && runtime.GOOS != "linux" {
			continue // no parking without epoll
		}
		c := ts.dial(t)
		br := bufio.NewReader(c)
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
		readResponse(t, br, "GET")
		if parked {
			waitFor(t, func() bool { return ts.srv.parkedCount() == 1 })
		}
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: a\r\nX-Slow: ")
		_, err := br.ReadByte()
		if err == nil || isTimeout(err) {
			t.Fatalf("parked %v: the slow second head was not cut by client_header_timeout: %v", parked, err)
		}
	}
}

// TestKeepaliveTimeoutClosesIdle: a parked connection is closed once
// keepalive_timeout passes; keepalive_timeout 0 answers with
// "Connection: close".
func TestKeepaliveTimeoutClosesIdle(t *testing.T) {
	lim := DefaultLimits()
	lim.IdleTimeout = 50 * time.Millisecond
	ts := startServer(t, echo, lim)
	var conns []net.Conn
	for i := 0; i < 20; i++ {
		c := ts.dial(t)
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
		br := bufio.NewReader(c)
		if resp, _ := readResponse(t, br, "GET"); resp.Close {
			t.Fatal("keep-alive refused")
		}
		conns = append(conns, c)
	}
	for _, c := range conns {
		if _, err := c.Read(make([]byte, 1)); err != io.EOF {
			t.Fatalf("idle connection: %v, want EOF", err)
		}
	}

	lim.IdleTimeout = 0
	ts = startServer(t, echo, lim)
	c := ts.dial(t)
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
	if resp, _ := readResponse(t, bufio.NewReader(c), "GET"); !resp.Close {
		t.Fatal("keepalive_timeout 0 kept the connection")
	}
}

// TestShutdownWaitsForRequest: Shutdown closes idle connections at once,
// lets the request in flight finish with "Connection: close", then
// returns; Serve returns ErrServerClosed (checked by startServer).
func TestShutdownWaitsForRequest(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	ts := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			close(entered)
			<-release
		}
		io.WriteString(w, "done")
	}), DefaultLimits())
	idle := ts.dial(t)
	io.WriteString(idle, "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
	idleBR := bufio.NewReader(idle)
	readResponse(t, idleBR, "GET")
	fresh := ts.dial(t) // accepted, nothing sent yet
	busy := ts.dial(t)
	io.WriteString(busy, "GET /slow HTTP/1.1\r\nHost: a\r\n\r\n")
	<-entered
	hook := make(chan struct{})
	ts.srv.RegisterOnShutdown(func() { close(hook) })
	shut := make(chan error, 1)
	go func() { shut <- ts.srv.Shutdown(context.Background()) }()
	if _, err := idleBR.ReadByte(); err != io.EOF {
		t.Fatalf("idle connection: %v, want EOF", err)
	}
	if _, err := fresh.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("fresh connection: %v, want EOF", err)
	}
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned %v with a request in flight", err)
	default:
	}
	close(release)
	resp, body := readResponse(t, bufio.NewReader(busy), "GET")
	if body != "done" || !resp.Close {
		t.Fatalf("in-flight request: %q close=%v", body, resp.Close)
	}
	if err := <-shut; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	<-hook // the shutdown hook (FlushLogs in bunsan) ran
}
