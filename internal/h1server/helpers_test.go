package h1server

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// testServer serves h on a loopback port with lim.
type testServer struct {
	srv    *Server
	addr   string
	mu     sync.Mutex
	states []http.ConnState
}

func startServer(t testing.TB, h http.Handler, lim Limits, setup ...func(*Server)) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{addr: ln.Addr().String()}
	ts.srv = &Server{Handler: h, Limits: func() Limits { return lim }}
	ts.srv.ConnState = func(_ net.Conn, st http.ConnState) {
		ts.mu.Lock()
		ts.states = append(ts.states, st)
		ts.mu.Unlock()
	}
	for _, f := range setup {
		f(ts.srv)
	}
	done := make(chan error, 1)
	go func() { done <- ts.srv.Serve(ln) }()
	t.Cleanup(func() {
		ts.srv.Close()
		if err := <-done; err != http.ErrServerClosed {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
	})
	return ts
}

func (ts *testServer) connStates() []http.ConnState {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]http.ConnState(nil), ts.states...)
}

// dial opens a connection with a deadline that only bounds a broken
// test; it is not a measurement.
func (ts *testServer) dial(t testing.TB) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	t.Cleanup(func() { c.Close() })
	return c
}

// raw sends req on a fresh connection and returns all the server sends
// until it closes the connection.
func (ts *testServer) raw(t testing.TB, req string) string {
	t.Helper()
	c := ts.dial(t)
	io.WriteString(c, req)
	b, _ := io.ReadAll(c)
	return string(b)
}

func readResponse(t testing.TB, br *bufio.Reader, method string) (*http.Response, string) {
	t.Helper()
	resp, err := http.ReadResponse(br, &http.Request{Method: method})
	if err != nil {
		t.Fatalf("reading response: %v", err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading body: %v", err)
	}
	return resp, string(b)
}

// echo answers with the method, target and body it read.
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		w.Header().Set("Connection", "close")
		w.WriteHeader(400)
		io.WriteString(w, err.Error())
		return
	}
	io.WriteString(w, r.Method+" "+r.RequestURI+" "+string(b))
})

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\r\n")
	return l
}

var _ = context.Background
