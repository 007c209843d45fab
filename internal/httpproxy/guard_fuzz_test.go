package httpproxy

import (
	"bytes"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// FuzzGuard feeds arbitrary bytes through the guard as a client would
// and checks its promises: it never panics, never releases more bytes
// than it read except a refusal request, and every head it releases is
// one that checkHead accepts (or the synthetic refusal).
func FuzzGuard(f *testing.F) {
	f.Add([]byte("GET / HTTP/1.1\r\nHost: a\r\n\r\n"))
	f.Add([]byte("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcGET / HTTP/1.1\r\nHost: a\r\n\r\n"))
	f.Add([]byte("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX: y\r\n\r\n"))
	f.Add([]byte("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"))
	f.Add([]byte("GET / HTTP/1.1\nHost: a\n\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		client, server := net.Pipe()
		go func() {
			client.Write(in)
			client.Close()
		}()
		lim := DefaultLimits()
		lim.HeaderBufSize, lim.HeaderBufNum = 256, 4
		g := newGuardConn(server, lim)
		server.SetDeadline(time.Now().Add(5 * time.Second))
		out, _ := io.ReadAll(g)
		refused := bytes.Contains(out, []byte(markerName))
		if !refused && len(out) > len(in) {
			t.Fatalf("released %d bytes of %d", len(out), len(in))
		}
		// Every released head must pass checkHead on its own.
		if i := bytes.Index(out, []byte("\r\n\r\n")); i >= 0 && !refused {
			head := out[:i+4]
			for len(head) >= 2 && head[0] == '\r' && head[1] == '\n' {
				head = head[2:]
			}
			if _, code := checkHead(head, lim); code != 0 && !strings.HasPrefix(string(head), "\r\n") {
				t.Fatalf("released a head checkHead refuses (%d): %q", code, head)
			}
		}
	})
}

func FuzzNormalizePath(f *testing.F) {
	for _, s := range []string{"/", "/a/../b", "//x/./y/..", "/..", "/a/%2e%2e"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		out, ok := normalizePath(p)
		if !ok {
			return
		}
		if p == "*" {
			return
		}
		if !strings.HasPrefix(out, "/") || strings.Contains(out, "//") || strings.Contains(out, "/../") || strings.Contains(out, "/./") || strings.HasSuffix(out, "/..") {
			t.Fatalf("normalizePath(%q) = %q, not normal", p, out)
		}
		if again, _ := normalizePath(out); again != out {
			t.Fatalf("not idempotent: %q → %q → %q", p, out, again)
		}
	})
}
