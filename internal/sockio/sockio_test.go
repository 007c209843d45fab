package sockio

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"
)

// pair returns both ends of a loopback TCP connection.
func pair(t *testing.T) (*net.TCPConn, *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type res struct {
		c   net.Conn
		err error
	}
	ch := make(chan res, 1)
	go func() { c, err := ln.Accept(); ch <- res{c, err} }()
	a, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	r := <-ch
	if r.err != nil {
		t.Fatal(r.err)
	}
	t.Cleanup(func() { a.Close(); r.c.Close() })
	return a.(*net.TCPConn), r.c.(*net.TCPConn)
}

// newConn is Init on a new Conn, nil when Init refuses.
func newConn(nc net.Conn, rc syscall.RawConn) *Conn {
	s := &Conn{}
	if !s.Init(nc, rc) {
		return nil
	}
	return s
}

func TestInitOnlyForTCP(t *testing.T) {
	p1, p2 := net.Pipe()
	defer p1.Close()
	defer p2.Close()
	if newConn(p1, nil) != nil {
		t.Fatal("a pipe has no socket: want nil")
	}
	a, _ := pair(t)
	if newConn(a, nil) == nil {
		t.Fatal("a TCP connection: want a Conn")
	}
}

func TestReadWrite(t *testing.T) {
	a, b := pair(t)
	sa, sb := newConn(a, nil), newConn(b, nil)
	cases := []struct {
		name string
		data []byte
	}{
		{"one byte", []byte("x")},
		{"a request head", []byte("GET / HTTP/1.1\r\nHost: a\r\n\r\n")},
		// Larger than both socket buffers: the writer must wait for the
		// reader in the poller and resume where send stopped.
		{"8 MiB", bytes.Repeat([]byte("0123456789abcdef"), 512<<10)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			done := make(chan error, 1)
			go func() {
				n, err := sa.Write(tc.data)
				if err == nil && n != len(tc.data) {
					err = io.ErrShortWrite
				}
				done <- err
			}()
			got := make([]byte, 0, len(tc.data))
			buf := make([]byte, 64<<10)
			for len(got) < len(tc.data) {
				n, err := sb.Read(buf)
				if err != nil {
					t.Fatalf("read after %d bytes: %v", len(got), err)
				}
				got = append(got, buf[:n]...)
			}
			if err := <-done; err != nil {
				t.Fatalf("write: %v", err)
			}
			if !bytes.Equal(got, tc.data) {
				t.Fatal("bytes differ")
			}
		})
	}
}

func TestEOF(t *testing.T) {
	a, b := pair(t)
	a.Close()
	n, err := newConn(b, nil).Read(make([]byte, 10))
	if n != 0 || err != io.EOF {
		t.Fatalf("after the peer's close: %d, %v; want 0, io.EOF", n, err)
	}
}

func TestEmptyBuffers(t *testing.T) {
	a, _ := pair(t)
	s := newConn(a, nil)
	if n, err := s.Read(nil); n != 0 || err != nil {
		t.Fatalf("Read(nil) = %d, %v", n, err)
	}
	if n, err := s.Write(nil); n != 0 || err != nil {
		t.Fatalf("Write(nil) = %d, %v", n, err)
	}
}

func TestReadDeadline(t *testing.T) {
	a, _ := pair(t)
	s := newConn(a, nil)
	// A deadline in the past: the read fails at once, as a timeout.
	a.SetReadDeadline(time.Unix(1, 0))
	_, err := s.Read(make([]byte, 1))
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("got %v; want a timeout", err)
	}
	// Worded as net.Conn words it, not as the poller's raw-read.
	var oe *net.OpError
	if !errors.As(err, &oe) || oe.Op != "read" || oe.Addr == nil {
		t.Fatalf("got %#v; want a read OpError with the peer's address", err)
	}
}

func TestClosedConn(t *testing.T) {
	a, _ := pair(t)
	s := newConn(a, nil)
	a.Close()
	if _, err := s.Read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("read on a closed conn: %v; want net.ErrClosed", err)
	}
	if _, err := s.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("write on a closed conn: %v; want net.ErrClosed", err)
	}
}

func TestResetIsAnOpError(t *testing.T) {
	a, b := pair(t)
	// Unread data at close makes the kernel send a reset.
	if _, err := a.Write([]byte("unread")); err != nil {
		t.Fatal(err)
	}
	sb := newConn(b, nil)
	buf := make([]byte, 1)
	if _, err := sb.Read(buf); err != nil { // leave 5 bytes unread
		t.Fatal(err)
	}
	if err := b.SetLinger(0); err != nil {
		t.Fatal(err)
	}
	b.Close()
	sa := newConn(a, nil)
	_, err := sa.Read(make([]byte, 10))
	var oe *net.OpError
	if !errors.As(err, &oe) || oe.Op != "read" || !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("after a reset: %v; want a read OpError wrapping ECONNRESET", err)
	}
	// Worded as net.Conn words it.
	if want := "read tcp " + a.LocalAddr().String() + "->" + a.RemoteAddr().String() + ": read: connection reset by peer"; err.Error() != want {
		t.Fatalf("got %q, want %q", err.Error(), want)
	}
}
