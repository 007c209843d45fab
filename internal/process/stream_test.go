package process

import (
	"bufio"
	"fmt"
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

// streamModel loads a configuration text with a stream block.
func streamModel(t *testing.T, text string) *config.Model {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "bunsan.conf")
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	m, _, err := config.Load(config.Options{Prefix: dir + "/", File: file})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func greeter(t *testing.T, name string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			fmt.Fprintf(c, "%s\n", name)
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return ln.Addr().String()
}

func hello(addr string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSpace(line), err
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestApplyStream: a reload keeps the stream listeners that stay (and
// serves them with the new configuration), closes the ones removed, and a
// configuration whose port is taken changes nothing.
func TestApplyStream(t *testing.T) {
	a, b := greeter(t, "a"), greeter(t, "b")
	l1, l2 := freeAddr(t), freeAddr(t)
	s := NewServer(slog.New(slog.NewTextHandler(io.Discard, nil)))
	defer s.Close()
	conf := func(backend, second string) string {
		extra := ""
		if second != "" {
			extra = fmt.Sprintf("server { listen %s; proxy_pass %s; }", second, backend)
		}
		return fmt.Sprintf("pid off; stream { server { listen %s; proxy_pass %s; } %s }", l1, backend, extra)
	}
	if err := s.Apply(streamModel(t, conf(a, l2))); err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{l1, l2} {
		if got, err := hello(l); got != "a" {
			t.Fatalf("%s: %q %v", l, got, err)
		}
	}
	if err := s.Apply(streamModel(t, conf(b, ""))); err != nil {
		t.Fatal(err)
	}
	if got, err := hello(l1); got != "b" {
		t.Errorf("kept listener after reload: %q %v", got, err)
	}
	if _, err := net.DialTimeout("tcp", l2, 10*time.Second); err == nil {
		t.Errorf("removed listener %s still accepts", l2)
	}
	// A port in use fails the apply and leaves the old configuration.
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	if err := s.Apply(streamModel(t, conf(a, busy.Addr().String()))); err == nil {
		t.Fatal("apply with a busy port succeeded")
	}
	if got, err := hello(l1); got != "b" {
		t.Errorf("after a failed apply: %q %v", got, err)
	}
}
