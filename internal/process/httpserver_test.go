package process

import (
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"bunsan/internal/config"
)

// TestPlainListenerLimits: a plain-text address is served by h1server
// with its own limits (large_client_header_buffers here), read through
// the router, not nginx's defaults.
func TestPlainListenerLimits(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	file := filepath.Join(dir, "bunsan.conf")
	conf := `http { access_log off; large_client_header_buffers 4 1k;
		server { listen ` + addr + `; location / { return 200 "ok"; } } }`
	if err := os.WriteFile(file, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	m, _, err := config.Load(config.Options{Prefix: dir + "/", File: file})
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(slog.New(slog.NewTextHandler(io.Discard, nil)))
	defer srv.Close()
	if err := srv.Apply(m); err != nil {
		t.Fatal(err)
	}
	raw := func(req string) string {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second)) // bounds a broken test
		io.WriteString(c, req)
		b, _ := io.ReadAll(c)
		return string(b)
	}
	if out := raw("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"); !strings.HasPrefix(out, "HTTP/1.1 200 ") {
		t.Fatalf("plain request: %q", out)
	}
	long := "GET /" + strings.Repeat("a", 2000) + " HTTP/1.1\r\nHost: a\r\n\r\n"
	if out := raw(long); !strings.HasPrefix(out, "HTTP/1.1 414 ") || !strings.Contains(out, "Connection: close") {
		t.Fatalf("a 2000-byte URI against 1k buffers: %q", out)
	}
}
