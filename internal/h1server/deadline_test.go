package h1server

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// countConn counts read deadline changes; it passes SyscallConn on, so
// that the connection parks as a plain one does.
type countConn struct {
	net.Conn
	sets *atomic.Int64
}

func (c countConn) SetReadDeadline(t time.Time) error {
	c.sets.Add(1)
	return c.Conn.SetReadDeadline(t)
}

func (c countConn) SyscallConn() (syscall.RawConn, error) {
	return c.Conn.(syscall.Conn).SyscallConn()
}

type countListener struct {
	net.Listener
	sets *atomic.Int64
}

func (l countListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return countConn{c, l.sets}, nil
}

// TestSetReadDeadline: a clear costs a socket call only when a deadline
// is set.
func TestSetReadDeadline(t *testing.T) {
	t1 := time.Now().Add(time.Hour)
	tests := []struct {
		name  string
		seq   []time.Time
		calls int64
	}{
		{"clear, none set", []time.Time{{}}, 0},
		{"set, clear", []time.Time{t1, {}}, 2},
		{"set, clear, clear", []time.Time{t1, {}, {}}, 2},
		{"set twice", []time.Time{t1, t1.Add(time.Second)}, 2},
		{"past deadline, clear", []time.Time{aLongTimeAgo, {}}, 2},
	}
	for _, tt := range tests {
		a, b := net.Pipe()
		var n atomic.Int64
		c := &conn{nc: countConn{a, &n}}
		for _, d := range tt.seq {
			_ = c.setReadDeadline(d)
		}
		if got := n.Load(); got != tt.calls {
			t.Errorf("%s: %d socket calls, want %d", tt.name, got, tt.calls)
		}
		a.Close()
		b.Close()
	}
}

// TestDeadlineChangesPerRequest: a kept-alive request whose head arrives
// whole changes the read deadline at most twice (linger's wait, its
// clear), not for client_header_timeout as well.
func TestDeadlineChangesPerRequest(t *testing.T) {
	var sets atomic.Int64
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })}
	go srv.Serve(countListener{ln, &sets})
	defer srv.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	const n = 20
	for i := 0; i < n; i++ {
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
		if _, body := readResponse(t, br, "GET"); body != "ok" {
			t.Fatalf("body %q", body)
		}
	}
	// One more for the deadline set at accept.
	if got := sets.Load(); got > 2*n+1 {
		t.Errorf("%d read deadline changes for %d requests, want at most %d", got, n, 2*n+1)
	}
	t.Logf("%d read deadline changes for %d requests", sets.Load(), n)
}
