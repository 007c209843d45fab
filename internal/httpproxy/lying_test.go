package httpproxy

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
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
// has only the declared bytes passed to its client.
//
// Known gap (issue 4 stays open for it): the extra bytes stay in Go's
// Transport buffer of the pooled backend connection, and a request that
// takes that connection before the Transport's idle check runs reads them
// as its response. The check wins almost always, but not always, so this
// test asserts only what is guaranteed; bunsan's own HTTP/1 client
// (performance issue) closes such a connection, as nginx does.
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
	// Long body: the client of /long gets the declared 2 bytes, nothing
	// more (one request: the backend connection of /short was closed, so
	// this one is fresh and no leftover from an earlier answer is in play).
	resp, body := httpGet(t, p.url("/long"))
	if resp.StatusCode != 200 || body != "ok" {
		t.Fatalf("/long: %d %q, want 200 \"ok\"", resp.StatusCode, body)
	}
}
