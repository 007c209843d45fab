package h1client

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

// rawBackend is a loopback backend that answers with exact bytes.
type rawBackend struct {
	addr     string
	accepted atomic.Int32
}

// newRaw starts a backend running serve on every accepted connection.
func newRaw(t testing.TB, serve func(c net.Conn, br *bufio.Reader)) *rawBackend {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &rawBackend{addr: ln.Addr().String()}
	done := make(chan struct{})
	t.Cleanup(func() { ln.Close(); <-done })
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			b.accepted.Add(1)
			go func() {
				defer c.Close()
				serve(c, bufio.NewReader(c))
			}()
		}
	}()
	return b
}

// scripted answers each request by its path: reply returns the bytes and
// whether to close the connection after them.
func scripted(t testing.TB, reply func(req *http.Request) (string, bool)) *rawBackend {
	return newRaw(t, func(c net.Conn, br *bufio.Reader) {
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			io.Copy(io.Discard, req.Body)
			out, closeAfter := reply(req)
			if _, err := io.WriteString(c, out); err != nil || closeAfter {
				return
			}
		}
	})
}

const honest = "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nhonest"

func get(t testing.TB, p *Pool, addr, method, target string) (*http.Response, Info, error) {
	t.Helper()
	return p.RoundTrip(context.Background(), addr, newReq(method, target, "backend", nil))
}

// readAll reads a response's body and closes it.
func readAll(resp *http.Response) (string, error) {
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	return string(b), err
}

// newReq builds a request as the proxy prepares one: the target in
// URL.Opaque and RawQuery.
func newReq(method, target, host string, body io.Reader) *http.Request {
	path, query, _ := strings.Cut(target, "?")
	req, _ := http.NewRequest(method, "http://"+host+"/", body)
	req.URL.Path = ""
	req.URL.Opaque, req.URL.RawQuery = path, query
	req.Header = http.Header{}
	return req
}
