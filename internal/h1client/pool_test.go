package h1client

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
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
	for i := 0; i < 100; i++ {
		if err := check("/long", "ok"); err != nil {
			t.Fatal(err)
		}
		if err := check("/ok", "honest"); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				if err := check("/long", "ok"); err != nil {
					errs <- err
					return
				}
				if err := check("/ok", "honest"); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
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
// a connection and closes without answering. A request that can be sent
// again is, once, on a new connection; one whose body is gone is not.
func TestRetryOnReusedConnection(t *testing.T) {
	be := newRaw(t, func(c net.Conn, br *bufio.Reader) {
		for n := 0; ; n++ {
			req, err := http.ReadRequest(br)
			if err != nil || n == 1 {
				return
			}
			b, _ := io.ReadAll(req.Body)
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: "+strconv.Itoa(len(b))+"\r\n\r\n"+string(b))
		}
	})
	p := New(Options{})
	defer p.Close()
	post := func(body string, replayable bool) (string, Info, error) {
		req := newReq("POST", "/", "b", strings.NewReader(body))
		if !replayable {
			req.GetBody = nil
		}
		resp, info, err := p.RoundTrip(context.Background(), be.addr, req)
		if err != nil {
			return "", info, err
		}
		s, err := readAll(resp)
		return s, info, err
	}
	if s, _, err := post("one", true); err != nil || s != "one" {
		t.Fatalf("first: %q %v", s, err)
	}
	s, info, err := post("two", true)
	if err != nil || s != "two" || info.Reused {
		t.Fatalf("replayable on a dead connection: %q %+v %v, want \"two\" on a new connection", s, info, err)
	}
	if _, _, err := post("three", false); err == nil {
		t.Fatal("a body that cannot be sent again was retried")
	}
	if n := be.accepted.Load(); n != 2 {
		t.Errorf("backend accepted %d connections, want 2", n)
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

// TestHTTP10: HTTP/1.0 requests say close and connections are not reused.
func TestHTTP10(t *testing.T) {
	lines := make(chan string, 4)
	be := newRaw(t, func(c net.Conn, br *bufio.Reader) {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		lines <- req.Proto + " " + req.Header.Get("Connection")
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		io.Copy(io.Discard, br) // keeps the connection open
	})
	p := New(Options{HTTP10: true})
	defer p.Close()
	for i := 0; i < 2; i++ {
		resp, info, err := get(t, p, be.addr, "GET", "/")
		if err != nil {
			t.Fatal(err)
		}
		readAll(resp)
		if info.Reused {
			t.Error("HTTP/1.0 connection reused")
		}
		if l := <-lines; l != "HTTP/1.0 close" {
			t.Errorf("backend saw %q", l)
		}
	}
}

// TestUpgrade: after 101 the body is the connection both ways, the bytes
// the backend sent with its head first.
func TestUpgrade(t *testing.T) {
	be := newRaw(t, func(c net.Conn, br *bufio.Reader) {
		if _, err := http.ReadRequest(br); err != nil {
			return
		}
		io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: upgrade\r\n\r\nhello ")
		io.Copy(c, br) // echo
	})
	p := New(Options{})
	defer p.Close()
	resp, _, err := get(t, p, be.addr, "GET", "/ws")
	if err != nil {
		t.Fatal(err)
	}
	rw, ok := resp.Body.(io.ReadWriteCloser)
	if resp.StatusCode != 101 || !ok {
		t.Fatalf("status %d, body %T", resp.StatusCode, resp.Body)
	}
	defer rw.Close()
	io.WriteString(rw, "ping")
	buf := make([]byte, 10)
	if _, err := io.ReadFull(rw, buf); err != nil || string(buf) != "hello ping" {
		t.Fatalf("read %q %v", buf, err)
	}
}

// TestRequestBytes checks what the backend receives, byte for byte.
func TestRequestBytes(t *testing.T) {
	got := make(chan string, 1)
	be := newRaw(t, func(c net.Conn, br *bufio.Reader) {
		var all bytes.Buffer
		for {
			line, err := br.ReadString('\n')
			all.WriteString(line)
			if err != nil {
				return
			}
			if line == "\r\n" {
				break
			}
		}
		if strings.Contains(all.String(), "Content-Length: 5") {
			b := make([]byte, 5)
			io.ReadFull(br, b)
			all.Write(b)
		}
		if strings.Contains(all.String(), "chunked") {
			for !strings.HasSuffix(all.String(), "0\r\n\r\n") {
				b, _ := br.ReadByte()
				all.WriteByte(b)
			}
		}
		got <- all.String()
		io.WriteString(c, "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
	})
	p := New(Options{})
	defer p.Close()
	cases := []struct {
		name string
		req  func() *http.Request
		want string
	}{
		{"get", func() *http.Request {
			r := newReq("GET", "/p?q=1", "h", nil)
			r.Host = "example.com"
			r.Header["X-B"] = []string{"2", "3"}
			r.Header["X-A"] = []string{"1"}
			return r
		}, "GET /p?q=1 HTTP/1.1\r\nHost: example.com\r\nX-A: 1\r\nX-B: 2\r\nX-B: 3\r\n\r\n"},
		{"post", func() *http.Request { return newReq("POST", "/", "h", strings.NewReader("hello")) },
			"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"},
		{"empty post", func() *http.Request { return newReq("POST", "/", "h", nil) },
			"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n"},
		{"chunked", func() *http.Request {
			r := newReq("PUT", "/", "h", io.MultiReader(strings.NewReader("ab"), strings.NewReader("cde")))
			r.ContentLength = -1
			return r
		}, "PUT / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n3\r\ncde\r\n0\r\n\r\n"},
		{"close", func() *http.Request { r := newReq("GET", "", "h", nil); r.Close = true; return r },
			"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"},
	}
	for _, tc := range cases {
		resp, _, err := p.RoundTrip(context.Background(), be.addr, tc.req())
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		readAll(resp)
		if s := <-got; s != tc.want {
			t.Errorf("%s: backend got\n%q\nwant\n%q", tc.name, s, tc.want)
		}
	}
	bad := newReq("GET", "/", "h", nil)
	bad.Header.Set("X-Inject", "a\r\nX-Evil: 1")
	if _, _, err := p.RoundTrip(context.Background(), be.addr, bad); !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("header with CRLF: err %v, want ErrInvalidRequest", err)
	}
}

// countingConn counts the writes that reach the socket.
type countingConn struct {
	net.Conn
	writes *int
}

func (c countingConn) Write(p []byte) (int, error) { *c.writes++; return c.Conn.Write(p) }

// TestOneWrite: a head and a small body leave in one write.
func TestOneWrite(t *testing.T) {
	be := scripted(t, func(*http.Request) (string, bool) { return honest, false })
	writes := 0
	p := New(Options{Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		return countingConn{c, &writes}, err
	}})
	defer p.Close()
	req := newReq("POST", "/", "h", strings.NewReader(strings.Repeat("x", 2000)))
	req.Header.Set("X-Forwarded-For", "10.0.0.1")
	resp, _, err := p.RoundTrip(context.Background(), be.addr, req)
	if err != nil {
		t.Fatal(err)
	}
	readAll(resp)
	if writes != 1 {
		t.Errorf("%d writes, want 1", writes)
	}
}

// TestEarlyAnswer: a backend that answers 413 and closes without reading
// a large body; its answer reaches the caller instead of a write error.
func TestEarlyAnswer(t *testing.T) {
	be := newRaw(t, func(c net.Conn, br *bufio.Reader) {
		for {
			line, err := br.ReadString('\n')
			if err != nil || line == "\r\n" {
				break
			}
		}
		io.WriteString(c, "HTTP/1.1 413 Request Entity Too Large\r\nConnection: close\r\nContent-Length: 3\r\n\r\nbig")
	})
	p := New(Options{})
	defer p.Close()
	req := newReq("POST", "/", "h", bytes.NewReader(make([]byte, 32<<20)))
	resp, _, err := p.RoundTrip(context.Background(), be.addr, req)
	if err != nil {
		t.Fatal(err)
	}
	if body, _ := readAll(resp); resp.StatusCode != 413 || body != "big" {
		t.Fatalf("got %d %q", resp.StatusCode, body)
	}
}
