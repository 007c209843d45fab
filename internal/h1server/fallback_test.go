package h1server

import (
	"bufio"
	"io"
	"net"
	"testing"
	"time"
)

// pipeListener hands out in-memory connections, which have no file
// descriptor: the server keeps their goroutine instead of parking.
type pipeListener struct {
	conns chan net.Conn
	done  chan struct{}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}
func (l *pipeListener) Close() error   { close(l.done); return nil }
func (l *pipeListener) Addr() net.Addr { return &net.TCPAddr{} }

// TestFallbackWithoutDescriptor: keep-alive and keepalive_timeout work on
// connections that cannot be parked.
func TestFallbackWithoutDescriptor(t *testing.T) {
	l := &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
	lim := DefaultLimits()
	lim.IdleTimeout = 50 * time.Millisecond
	srv := &Server{Handler: echo, Limits: func() Limits { return lim }}
	go srv.Serve(l)
	defer srv.Close()
	client, server := net.Pipe()
	l.conns <- server
	client.SetDeadline(time.Now().Add(10 * time.Second)) // bounds a broken test
	br := bufio.NewReader(client)
	for _, p := range []string{"/a", "/b"} {
		go io.WriteString(client, "GET "+p+" HTTP/1.1\r\nHost: a\r\n\r\n")
		if _, body := readResponse(t, br, "GET"); body != "GET "+p+" " {
			t.Fatalf("got %q", body)
		}
	}
	if _, err := br.ReadByte(); err != io.EOF {
		t.Fatalf("idle pipe connection: %v, want EOF from keepalive_timeout", err)
	}
	if n := srv.parkedCount(); n != 0 {
		t.Fatalf("%d parked", n)
	}
}
