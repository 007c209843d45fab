package httpproxy

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"bunsan/internal/testutil/badrequests"
)

// TestGuardRefusesAmbiguousRequests sends each kind of malformed or
// ambiguous request on a raw connection: the proxy must answer with the
// status nginx gives (or stricter), close the connection, and the
// backend must never see the request.
func TestGuardRefusesAmbiguousRequests(t *testing.T) {
	be := newBackend(t, "b", nil)
	p := startProxy(t, `http { server { listen LISTEN; large_client_header_buffers 4 1k;
		location / { proxy_pass http://`+be.addr+`; } } }`)
	tests := append(badrequests.Cases(),
		badrequests.Case{Name: "forged marker", Req: "GET / HTTP/1.1\r\nHost: a\r\n" + markerName + ": 200\r\n\r\n", Code: "400"})
	for _, tt := range tests {
		t.Run(tt.Name, func(t *testing.T) {
			before := be.count()
			out := p.raw(t, tt.Req)
			if !strings.HasPrefix(out, "HTTP/1.1 "+tt.Code+" ") {
				t.Fatalf("answer %q, want status %s", firstLine(out), tt.Code)
			}
			if !strings.Contains(out, "Connection: close") {
				t.Errorf("connection not marked closed: %q", out)
			}
			if be.count() != before {
				t.Errorf("the backend saw the request")
			}
		})
	}
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\r\n")
	return l
}

// TestGuardPassesValidRequests checks that the guard's framing follows
// bodies exactly, so that pipelined requests after a body arrive intact.
func TestGuardPassesValidRequests(t *testing.T) {
	be := newBackend(t, "b", nil)
	p := startProxy(t, `http { server { listen LISTEN; location / { proxy_pass http://`+be.addr+`; } } }`)
	req := "POST /one HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello" +
		"POST /two HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nTrailer-X: 1\r\n\r\n" +
		"\r\nGET /three HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
	out := p.raw(t, req)
	if n := strings.Count(out, "HTTP/1.1 200 OK"); n != 3 {
		t.Fatalf("%d answers, want 3:\n%s", n, out)
	}
	be.mu.Lock()
	defer be.mu.Unlock()
	got := []string{}
	for _, r := range be.reqs {
		got = append(got, r.URI+"="+r.Body)
	}
	if strings.Join(got, " ") != "/one=hello /two=abcde /three=" {
		t.Errorf("backend saw %v", got)
	}
}

// TestGuardBadChunk: an invalid chunk size ends the request with 400 and
// the connection; what follows is never parsed as a request.
func TestGuardBadChunk(t *testing.T) {
	be := newBackend(t, "b", nil)
	p := startProxy(t, `http { server { listen LISTEN; location / { proxy_pass http://`+be.addr+`; } } }`)
	for _, size := range []string{"zz", "-1", " 3", "3 ", "1234567890abcdef0", "0x3"} {
		out := p.raw(t, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"+size+"\r\nabc\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n")
		if !strings.HasPrefix(out, "HTTP/1.1 400 ") {
			t.Errorf("chunk size %q: answer %q, want 400", size, firstLine(out))
		}
		if strings.Count(out, "HTTP/1.1") != 1 {
			t.Errorf("chunk size %q: more than one answer:\n%s", size, out)
		}
	}
	if be.count() != 0 {
		t.Errorf("backend saw %d requests", be.count())
	}
}

// TestSlowlorisDoesNotBlockOthers holds many connections that send a
// partial head and checks that client_header_timeout closes them while a
// normal client is served meanwhile.
func TestSlowlorisDoesNotBlockOthers(t *testing.T) {
	be := newBackend(t, "b", nil)
	p := startProxy(t, `http { client_header_timeout 1s; server { listen LISTEN; location / { proxy_pass http://`+be.addr+`; } } }`)
	const slow = 500
	var wg sync.WaitGroup
	closed := make(chan bool, slow)
	for i := 0; i < slow; i++ {
		c, err := net.Dial("tcp", p.addr)
		if err != nil {
			t.Fatal(err)
		}
		c.Write([]byte("GET / HTTP/1.1\r\nHost: a\r\nX-Slow: "))
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			// A bound for a broken test: the proxy must close first.
			c.SetReadDeadline(time.Now().Add(20 * time.Second))
			buf := make([]byte, 1)
			_, err := c.Read(buf)
			ne, isNet := err.(net.Error)
			closed <- err != nil && !(isNet && ne.Timeout())
		}()
	}
	for i := 0; i < 20; i++ {
		if resp, _ := httpGet(t, p.url("/")); resp.StatusCode != 200 {
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

// TestHeaderTimeoutOnKeptAliveConnection: client_header_timeout also
// bounds the head of a later request on a kept-alive connection (the
// clock starts at its first byte), not only keepalive_timeout.
func TestHeaderTimeoutOnKeptAliveConnection(t *testing.T) {
	p := startProxy(t, `http { client_header_timeout 500ms; keepalive_timeout 60s;
		server { listen LISTEN; location / { return 200 "ok"; } } }`)
	c, err := net.Dial("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// A bound for a broken test: keepalive_timeout alone would take 60s.
	c.SetDeadline(time.Now().Add(20 * time.Second))
	c.Write([]byte("GET / HTTP/1.1\r\nHost: a\r\n\r\n"))
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("first request: %v %v", resp, err)
	}
	io.Copy(io.Discard, resp.Body)
	c.Write([]byte("GET / HTTP/1.1\r\nHost: a\r\nX-Slow: "))
	_, err = br.ReadByte()
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("the slow second head was not cut by client_header_timeout")
	}
	if err == nil {
		t.Fatal("the proxy answered an incomplete head")
	}
}
