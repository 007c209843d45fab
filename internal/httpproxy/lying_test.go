package httpproxy

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"bunsan/internal/testutil/hammer"
)

// lyingBackend answers raw bytes: /short declares more body than it
// sends and closes; /long sends more than it declares; /ok is honest.
func lyingBackend(t *testing.T) string {
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
			go func(c net.Conn) {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					switch req.URL.Path {
					case "/short":
						io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this")
						return
					case "/shortchunked":
						io.WriteString(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n")
						return
					case "/bighead":
						io.WriteString(c, "HTTP/1.1 200 OK\r\nX-Big: "+strings.Repeat("b", 6000)+"\r\nContent-Length: 3\r\n\r\nbig")
					case "/both":
						io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nbad\r\n0\r\n\r\n")
					case "/long":
						io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nsmuggled")
					default:
						io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nhonest")
					}
				}
			}(c)
		}
	}()
	return ln.Addr().String()
}

// TestBackendLyingAboutLength: a backend that sends less than it
// declared makes the proxy close the client connection (the client sees
// a short body, never a desynchronised stream), and one that sends more
// has only the declared bytes passed to its client, and its connection is
// closed, never reused: the bytes past the declared length (here a whole
// second response) never reach another request, as in nginx.
func TestBackendLyingAboutLength(t *testing.T) {
	be := lyingBackend(t)
	p := startProxy(t, `http { upstream app { server `+be+`; keepalive 4; }
		server { listen LISTEN; location / { proxy_pass http://app; proxy_next_upstream off; } } }`)
	// Short body: the client connection must end after the short answer.
	c, err := net.Dial("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, "GET /short HTTP/1.1\r\nHost: a\r\n\r\nGET /ok HTTP/1.1\r\nHost: a\r\n\r\n")
	all, _ := io.ReadAll(c)
	if strings.Contains(string(all), "honest") {
		t.Errorf("the connection went on after a short body:\n%s", all)
	}
	// A chunked body cut short: the client's response must not end
	// cleanly, or it would take the part for the whole.
	resp, err := http.Get(p.url("/shortchunked"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err == nil {
		t.Errorf("a chunked body cut short reached the client as complete: %q", b)
	}
	// Long body, over and over, one request after another on the same
	// kept-alive client connection and from several clients at once:
	// /long gets its declared 2 bytes and every /ok gets "honest".
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	defer client.CloseIdleConnections()
	check := func(path, want string) error {
		resp, err := client.Get(p.url(path))
		if err != nil {
			return err
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || string(b) != want {
			return fmt.Errorf("%s: %d %q %v, want 200 %q", path, resp.StatusCode, b, err, want)
		}
		return nil
	}
	hammer.Pairs(t, check, [][2]string{{"/long", "ok"}, {"/ok", "honest"}}, 200, 8, 25)
}

// TestBackendHeadLimits: a response head larger than proxy_buffer_size
// (4k by default) is nginx's "upstream sent too big header", and one with
// both Content-Length and Transfer-Encoding is invalid: 502 for both.
func TestBackendHeadLimits(t *testing.T) {
	be := lyingBackend(t)
	p := startProxy(t, `http { upstream app { server `+be+`; keepalive 4; }
		server { listen LISTEN;
			location / { proxy_pass http://app; proxy_next_upstream off; }
			location /large/ { proxy_pass http://app/; proxy_buffer_size 8k; } } }`)
	for _, tc := range []struct {
		path   string
		status int
		body   string
	}{{"/bighead", 502, ""}, {"/both", 502, ""}, {"/large/bighead", 200, "big"}, {"/ok", 200, "honest"}} {
		resp, body := httpGet(t, p.url(tc.path))
		if resp.StatusCode != tc.status || (tc.body != "" && body != tc.body) {
			t.Errorf("%s: %d %q, want %d %q", tc.path, resp.StatusCode, body, tc.status, tc.body)
		}
	}
}
