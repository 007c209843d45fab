package h1server

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestKeepAliveAndPipelining: requests on one connection, two of them in
// one write, are answered in order, with bodies framed as announced.
func TestKeepAliveAndPipelining(t *testing.T) {
	ts := startServer(t, echo, DefaultLimits())
	c := ts.dial(t)
	br := bufio.NewReader(c)
	io.WriteString(c, "GET /one HTTP/1.1\r\nHost: a\r\n\r\n")
	if _, body := readResponse(t, br, "GET"); body != "GET /one " {
		t.Fatalf("first: %q", body)
	}
	io.WriteString(c, "POST /two HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"+
		"\r\nPOST /three HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;x=1\r\nabc\r\n2\r\nde\r\n0\r\nT: 1\r\n\r\n"+
		"GET /four HTTP/1.1\r\nHost: a\r\n\r\n")
	for _, want := range []string{"POST /two hello", "POST /three abcde", "GET /four "} {
		resp, body := readResponse(t, br, "GET")
		if body != want || resp.Close {
			t.Fatalf("got %q (close %v), want %q", body, resp.Close, want)
		}
		if resp.ContentLength != int64(len(want)) || resp.Header.Get("Date") == "" {
			t.Errorf("%q: Content-Length %d, Date %q", want, resp.ContentLength, resp.Header.Get("Date"))
		}
	}
}

// TestRequestFields checks what handlers written for net/http rely on.
func TestRequestFields(t *testing.T) {
	got := make(chan *http.Request, 1)
	ts := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The server reuses r, its URL and its header once the handler
		// returns: what the test looks at later is a copy.
		cp, u := *r, *r.URL
		cp.URL, cp.Header = &u, r.Header.Clone()
		got <- &cp
	}), DefaultLimits())
	tests := []struct {
		req                string
		method, host, uri  string
		path, query, proto string
		close              bool
		hdr                string // Name=value
	}{
		{"GET /a/b?x=1 HTTP/1.1\r\nHost: h:8\r\nx-lower: v\r\n\r\n", "GET", "h:8", "/a/b?x=1", "/a/b", "x=1", "HTTP/1.1", false, "X-Lower=v"},
		{"GET http://abs.test/p HTTP/1.1\r\nHost: other\r\n\r\n", "GET", "abs.test", "http://abs.test/p", "/p", "", "HTTP/1.1", false, "Host="},
		{"GET / HTTP/1.0\r\n\r\n", "GET", "", "/", "/", "", "HTTP/1.0", true, ""},
		{"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", "GET", "", "/", "/", "", "HTTP/1.0", false, "Connection=keep-alive"},
		{"GET / HTTP/1.1\r\nHost: a\r\nConnection: Close\r\n\r\n", "GET", "a", "/", "/", "", "HTTP/1.1", true, ""},
		{"CONNECT a.test:443 HTTP/1.1\r\nHost: a.test:443\r\n\r\n", "CONNECT", "a.test:443", "a.test:443", "", "", "HTTP/1.1", false, ""},
		{"GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\nx-a: 2\r\n\r\n", "GET", "a", "/", "/", "", "HTTP/1.1", false, "X-A=1"},
	}
	for _, tt := range tests {
		c := ts.dial(t)
		io.WriteString(c, tt.req)
		r := <-got
		if r.Method != tt.method || r.Host != tt.host || r.RequestURI != tt.uri || r.URL.Path != tt.path ||
			r.URL.RawQuery != tt.query || r.Proto != tt.proto || r.Close != tt.close {
			t.Errorf("%q: got %s %s %s %s %s %s close=%v", tt.req, r.Method, r.Host, r.RequestURI, r.URL.Path, r.URL.RawQuery, r.Proto, r.Close)
		}
		if k, v, ok := strings.Cut(tt.hdr, "="); ok && r.Header.Get(k) != v {
			t.Errorf("%q: header %s = %q, want %q", tt.req, k, r.Header.Get(k), v)
		}
		if r.RemoteAddr != c.LocalAddr().String() {
			t.Errorf("RemoteAddr %q", r.RemoteAddr)
		}
		c.Close()
	}
}

// TestRequestReuse: the request, URL and header a connection reuses start
// empty for each request; nothing of the one before shows through.
func TestRequestReuse(t *testing.T) {
	ts := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %s q=%q frag=%q n=%d a=%q b=%q tls=%v", r.Method, r.URL.Path, r.URL.RawQuery, r.URL.RawPath,
			len(r.Header), r.Header.Get("X-A"), r.Header.Get("X-B"), r.TLS != nil)
		r.Header.Set("X-Handler", "set") // a handler's edits do not carry over either
		r.URL.RawQuery = "edited"
		r.TLS = &tls.ConnectionState{}
	}), DefaultLimits())
	c := ts.dial(t)
	defer c.Close()
	br := bufio.NewReader(c)
	io.WriteString(c, "GET /one%2F?x=1 HTTP/1.1\r\nHost: a\r\nX-A: 1\r\nX-A: 2\r\nX-B: b\r\n\r\n"+
		"POST /two HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n"+
		"GET /three HTTP/1.1\r\nHost: a\r\nX-B: c\r\n\r\n")
	for _, want := range []string{
		`GET /one/ q="x=1" frag="/one%2F" n=2 a="1" b="b" tls=false`,
		`POST /two q="" frag="" n=1 a="" b="" tls=false`,
		`GET /three q="" frag="" n=1 a="" b="c" tls=false`,
	} {
		if _, body := readResponse(t, br, "GET"); body != want {
			t.Errorf("got  %s\nwant %s", body, want)
		}
	}
}

// TestExpectContinue: "100 Continue" goes out on the first body read,
// and not at all when the handler answers without reading.
func TestExpectContinue(t *testing.T) {
	ts := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/skip" {
			w.WriteHeader(403)
			return
		}
		echo(w, r)
	}), DefaultLimits())
	c := ts.dial(t)
	br := bufio.NewReader(c)
	io.WriteString(c, "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n")
	line, err := br.ReadString('\n')
	if err != nil || line != "HTTP/1.1 100 Continue\r\n" {
		t.Fatalf("got %q %v, want 100 Continue", line, err)
	}
	br.ReadString('\n')
	io.WriteString(c, "hi")
	if _, body := readResponse(t, br, "POST"); body != "POST / hi" {
		t.Fatalf("body %q", body)
	}
	io.WriteString(c, "POST /skip HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n")
	resp, _ := readResponse(t, br, "POST")
	if resp.StatusCode != 403 || !resp.Close {
		t.Fatalf("got %d close=%v, want 403 and the connection closed (the body was never asked for)", resp.StatusCode, resp.Close)
	}
}

// TestResponseFraming: Content-Length computed for small bodies, chunked
// for large or flushed ones, close-delimited for HTTP/1.0, none for
// HEAD, 204 and 304.
func TestResponseFraming(t *testing.T) {
	big := strings.Repeat("x", 10000)
	ts := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/small":
			io.WriteString(w, "small")
		case "/big":
			io.WriteString(w, big)
		case "/cl":
			w.Header().Set("Content-Length", "3")
			io.WriteString(w, "abc")
		case "/204":
			w.WriteHeader(204)
		case "/304":
			w.WriteHeader(304)
		case "/close":
			w.Header().Set("Connection", "close")
			io.WriteString(w, "bye")
		}
	}), DefaultLimits())
	tests := []struct {
		req, want string
		absent    []string
	}{
		{"GET /small HTTP/1.1\r\nHost: a\r\n\r\n", "Content-Length: 5\r\n", []string{"chunked", "Connection"}},
		{"GET /big HTTP/1.1\r\nHost: a\r\n\r\n", "Transfer-Encoding: chunked\r\n", []string{"Content-Length"}},
		{"GET /big HTTP/1.0\r\n\r\n", "Connection: close\r\n", []string{"Content-Length", "chunked"}},
		{"GET /small HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", "Connection: keep-alive\r\n", nil},
		{"HEAD /small HTTP/1.1\r\nHost: a\r\n\r\n", "Content-Length: 5\r\n\r\n", []string{"small"}},
		{"HEAD /cl HTTP/1.1\r\nHost: a\r\n\r\n", "Content-Length: 3\r\n\r\n", []string{"abc"}},
		{"GET /204 HTTP/1.1\r\nHost: a\r\n\r\n", "HTTP/1.1 204 No Content\r\n", []string{"Content-Length", "chunked"}},
		{"GET /304 HTTP/1.1\r\nHost: a\r\n\r\n", "HTTP/1.1 304 Not Modified\r\n", []string{"Content-Length", "chunked"}},
		{"GET /close HTTP/1.1\r\nHost: a\r\n\r\n", "Connection: close\r\n", nil},
	}
	for _, tt := range tests {
		c := ts.dial(t)
		io.WriteString(c, tt.req)
		c.(*net.TCPConn).CloseWrite()
		b, _ := io.ReadAll(c)
		out := string(b)
		if !strings.Contains(out, tt.want) {
			t.Errorf("%q: no %q in %q", tt.req, tt.want, out)
		}
		head, _, _ := strings.Cut(out, "\r\n\r\n")
		for _, a := range tt.absent {
			if strings.Contains(head, a) || a == "small" && strings.HasSuffix(out, a) || a == "abc" && strings.HasSuffix(out, a) {
				t.Errorf("%q: unexpected %q in %q", tt.req, a, out)
			}
		}
	}
	c := ts.dial(t)
	io.WriteString(c, "GET /big HTTP/1.1\r\nHost: a\r\n\r\n")
	if _, body := readResponse(t, bufio.NewReader(c), "GET"); body != big {
		t.Errorf("chunked body of %d bytes, want %d", len(body), len(big))
	}
}

// TestFlushStreams: a flushed part reaches the client while the handler
// still runs (proxy_buffering off, server-sent events).
func TestFlushStreams(t *testing.T) {
	release := make(chan struct{})
	ts := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "first")
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Error(err)
		}
		<-release
		io.WriteString(w, "second")
	}), DefaultLimits())
	c := ts.dial(t)
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 5)
	if _, err := io.ReadFull(resp.Body, buf); err != nil || string(buf) != "first" {
		t.Fatalf("got %q %v before the handler finished", buf, err)
	}
	close(release)
	rest, _ := io.ReadAll(resp.Body)
	if string(rest) != "second" {
		t.Fatalf("rest %q", rest)
	}
}

// TestHijack: the hijacker gets the connection with the bytes already
// buffered behind the head, and writes its own answer (WebSocket).
func TestHijack(t *testing.T) {
	ts := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: Upgrade\r\n\r\n")
		brw.Flush()
		line, _ := brw.ReadString('\n')
		brw.WriteString("echo " + line)
		brw.Flush()
	}), DefaultLimits())
	c := ts.dial(t)
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: x\r\nConnection: Upgrade\r\n\r\nearly\n")
	b, _ := io.ReadAll(c)
	if !strings.HasPrefix(string(b), "HTTP/1.1 101 ") || !strings.HasSuffix(string(b), "\r\n\r\necho early\n") {
		t.Fatalf("got %q", b)
	}
	waitFor(t, func() bool {
		st := ts.connStates()
		return len(st) > 0 && st[len(st)-1] == http.StateHijacked
	})
}

// TestHijackCutsResponse: a response begun, then hijacked and closed (the
// proxy does so when a backend body breaks off) reaches the client with
// what was written and framing that cannot end cleanly.
func TestHijackCutsResponse(t *testing.T) {
	ts := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		io.WriteString(w, "part")
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			conn.Close()
		}
	}), DefaultLimits())
	resp, err := http.Get("http://" + ts.addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err == nil || string(b) != "part" {
		t.Errorf("got %q, %v; want the part written, then an error", b, err)
	}
}

// TestConnStates: New, Active, Idle per request, Closed at the end.
func TestConnStates(t *testing.T) {
	ts := startServer(t, echo, DefaultLimits())
	c := ts.dial(t)
	br := bufio.NewReader(c)
	for i := 0; i < 2; i++ {
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
		readResponse(t, br, "GET")
	}
	c.Close()
	want := []http.ConnState{http.StateNew, http.StateActive, http.StateIdle, http.StateActive, http.StateIdle, http.StateClosed}
	waitFor(t, func() bool { return len(ts.connStates()) == len(want) })
	for i, st := range ts.connStates() {
		if st != want[i] {
			t.Fatalf("states %v, want %v", ts.connStates(), want)
		}
	}
}

// TestConnStateContext: with ConnStateContext set, states go to it, with
// the context ConnContext made, and not to ConnState.
func TestConnStateContext(t *testing.T) {
	type key struct{}
	var mu sync.Mutex
	var got []string
	ts := startServer(t, echo, DefaultLimits(), func(s *Server) {
		s.ConnContext = func(ctx context.Context, _ net.Conn) context.Context {
			return context.WithValue(ctx, key{}, "mine")
		}
		s.ConnStateContext = func(ctx context.Context, st http.ConnState) {
			mu.Lock()
			got = append(got, fmt.Sprint(ctx.Value(key{}), " ", st))
			mu.Unlock()
		}
	})
	c := ts.dial(t)
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
	readResponse(t, bufio.NewReader(c), "GET")
	c.Close()
	want := []string{"mine new", "mine active", "mine idle", "mine closed"}
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == len(want) })
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("states %q, want %q", got, want)
	}
	if n := len(ts.connStates()); n != 0 {
		t.Fatalf("ConnState saw %d states; ConnStateContext should take them all", n)
	}
}

// TestWatchTimerStopsAtClose: a connection's lazy watch timer does not
// outlive the connection (fired, it would start a goroutine for
// nothing, one per connection when each serves one request).
func TestWatchTimerStopsAtClose(t *testing.T) {
	var mu sync.Mutex
	var conns []*conn
	var srv *Server // set before Serve starts
	ts := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		srv.mu.Lock()
		for c := range srv.conns {
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
		srv.mu.Unlock()
	}), DefaultLimits(), func(s *Server) { srv = s })
	out := ts.raw(t, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
	if firstLine(out) != "HTTP/1.1 200 OK" {
		t.Fatalf("got %q", out)
	}
	waitFor(t, func() bool {
		st := ts.connStates()
		return len(st) > 0 && st[len(st)-1] == http.StateClosed
	})
	mu.Lock()
	defer mu.Unlock()
	if len(conns) != 1 {
		t.Fatalf("%d connections seen, want 1", len(conns))
	}
	w := &conns[0].watch
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.armed {
		t.Fatal("the watch timer is still armed after the connection closed")
	}
}

// TestCompleteResponseSentBeforeHandlerReturns: once a response's
// declared length is written it goes out, while the handler still runs
// (the proxy's log line and counters come after, as in nginx).
func TestCompleteResponseSentBeforeHandlerReturns(t *testing.T) {
	release := make(chan struct{})
	done := make(chan struct{})
	ts := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(done)
		w.Header().Set("Content-Length", "5")
		io.WriteString(w, "hello")
		<-release // the client must have the whole response by now
	}), DefaultLimits())
	defer func() { close(release); <-done }()
	c := ts.dial(t) // its deadline bounds a broken test
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
	resp, body := readResponse(t, bufio.NewReader(c), "GET")
	if resp.StatusCode != 200 || body != "hello" {
		t.Fatalf("got %d %q", resp.StatusCode, body)
	}
}

// TestClientGoneCancelsContext: the handler's context is cancelled when
// the client closes while it waits (the proxy's 499).
func TestClientGoneCancelsContext(t *testing.T) {
	cancelled := make(chan error, 1)
	ts := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body) // as the proxy does, buffering; only then the watcher reads
		select {
		case <-r.Context().Done():
			cancelled <- r.Context().Err()
		case <-time.After(10 * time.Second): // bounds a broken test
			cancelled <- nil
		}
	}), DefaultLimits())
	for _, req := range []string{
		"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc",
	} {
		c := ts.dial(t)
		io.WriteString(c, req)
		c.Close()
		if err := <-cancelled; err != context.Canceled {
			t.Fatalf("%q: context error %v, want Canceled", req, err)
		}
	}
}

// TestWatchAfterFastRequests: the watch's timer, left running by fast
// requests, watches a slow one on the same connection watchAfter after
// that one began, not earlier, and still sees the client leave.
func TestWatchAfterFastRequests(t *testing.T) {
	type result struct {
		err     error
		elapsed time.Duration
	}
	done := make(chan result, 1)
	ts := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/slow" {
			io.WriteString(w, "fast")
			return
		}
		start := time.Now()
		select {
		case <-r.Context().Done():
			done <- result{r.Context().Err(), time.Since(start)}
		case <-time.After(10 * time.Second): // bounds a broken test
			done <- result{}
		}
	}), DefaultLimits())
	c := ts.dial(t)
	br := bufio.NewReader(c)
	for i := 0; i < 3; i++ {
		io.WriteString(c, "GET /fast HTTP/1.1\r\nHost: a\r\n\r\n")
		readResponse(t, br, "GET")
	}
	time.Sleep(watchAfter / 2) // the fast requests' timer fires during the slow one
	io.WriteString(c, "GET /slow HTTP/1.1\r\nHost: a\r\n\r\n")
	c.Close()
	res := <-done
	if res.err != context.Canceled {
		t.Fatalf("context error %v, want Canceled", res.err)
	}
	if res.elapsed < watchAfter-time.Millisecond {
		t.Errorf("the client was watched %v after the handler began, before watchAfter (%v)", res.elapsed, watchAfter)
	}
}

// TestPipelinedByteDuringSlowHandler: a byte the watcher reads while a
// slow handler runs belongs to the next request.
func TestPipelinedByteDuringSlowHandler(t *testing.T) {
	ts := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			time.Sleep(3 * watchAfter) // long enough for the watcher to read
		}
		io.WriteString(w, r.URL.Path)
	}), DefaultLimits())
	c := ts.dial(t)
	br := bufio.NewReader(c)
	io.WriteString(c, "GET /slow HTTP/1.1\r\nHost: a\r\n\r\n")
	time.Sleep(watchAfter) // not synchronisation: either order must work
	io.WriteString(c, "GET /next HTTP/1.1\r\nHost: a\r\n\r\n")
	for _, want := range []string{"/slow", "/next"} {
		if _, body := readResponse(t, br, "GET"); body != want {
			t.Fatalf("got %q, want %q", body, want)
		}
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second) // bounds a broken test
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestFreshHeaderPerResponse: a response starts with an empty header on
// a kept-alive connection.
func TestFreshHeaderPerResponse(t *testing.T) {
	ts := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(w.Header()) != 0 {
			t.Errorf("header carried over: %v", w.Header())
		}
		w.Header().Set("X-Only-"+r.URL.Path[1:], "1")
		io.WriteString(w, "ok")
	}), DefaultLimits())
	c := ts.dial(t)
	br := bufio.NewReader(c)
	for _, p := range []string{"a", "b"} {
		io.WriteString(c, "GET /"+p+" HTTP/1.1\r\nHost: a\r\n\r\n")
		resp, _ := readResponse(t, br, "GET")
		if len(resp.Header.Values("X-Only-a"))+len(resp.Header.Values("X-Only-b")) != 1 {
			t.Fatalf("response %s: %v", p, resp.Header)
		}
	}
}

// TestHandlerPanic: a panicking handler closes its connection, not the
// server.
func TestHandlerPanic(t *testing.T) {
	ts := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/panic" {
			panic(http.ErrAbortHandler)
		}
		io.WriteString(w, "ok")
	}), DefaultLimits())
	if out := ts.raw(t, "GET /panic HTTP/1.1\r\nHost: a\r\n\r\n"); out != "" {
		t.Fatalf("got %q after a panic", out)
	}
	c := ts.dial(t)
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
	if _, body := readResponse(t, bufio.NewReader(c), "GET"); body != "ok" {
		t.Fatalf("got %q", body)
	}
}
