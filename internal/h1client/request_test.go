package h1client

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

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
	// The proxy writes the 101 head out again as received.
	resp.Body = nil
	var head bytes.Buffer
	resp.Write(&head)
	if strings.Contains(head.String(), "close") || !strings.Contains(head.String(), "Connection: upgrade\r\n") {
		t.Errorf("101 written again as\n%s", head.String())
	}
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
