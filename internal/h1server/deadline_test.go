package h1server

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strconv"
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
		cc := countConn{a, &n}
		c := &conn{nc: cc, io: cc}
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

// TestLingerKeeps: the deadline on the socket does for a linger when it
// ends at most lingerSlack before the wanted end, and not after it.
func TestLingerKeeps(t *testing.T) {
	want := time.Now().Add(parkAfter)
	tests := []struct {
		name string
		cur  time.Time
		keep bool
	}{
		{"none", time.Time{}, false},
		{"long ago", aLongTimeAgo, false},
		{"the same", want, true},
		{"a little earlier", want.Add(-lingerSlack / 2), true},
		{"too early", want.Add(-lingerSlack), false},
		{"later", want.Add(time.Millisecond), false},
		{"a head's deadline", want.Add(time.Minute), false},
	}
	for _, tt := range tests {
		if got := lingerKeeps(tt.cur, want); got != tt.keep {
			t.Errorf("%s: lingerKeeps = %v, want %v", tt.name, got, tt.keep)
		}
	}
}

// TestDeadlineChangesPerRequest: a kept-alive request whose head arrives
// whole changes the read deadline at most once (linger's wait, when the
// last one's is too old), not for client_header_timeout nor to clear it.
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
	// Usually a couple in all. At most one per request (when requests
	// are further apart than lingerSlack), and one for the deadline set
	// at accept; the bound leaves room for a handler slow enough under
	// load for the watch to start (a clear, and a linger that must set
	// its deadline again). Setting client_header_timeout's deadline or
	// clearing linger's for every request would exceed it.
	if got := sets.Load(); got > 3*n/2 {
		t.Errorf("%d read deadline changes for %d requests, want at most %d", got, n, 3*n/2)
	}
	t.Logf("%d read deadline changes for %d requests", sets.Load(), n)
}

// TestBodyAfterLingerDeadline: linger's deadline, left on the socket after
// a head, is gone before a body is read or a hijacker reads: a body
// that comes after it passed is read whole, and so are a hijacker's bytes.
func TestBodyAfterLingerDeadline(t *testing.T) {
	ts := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/hijack": // at once: before the watch would clear the deadline
			nc, brw, err := w.(http.Hijacker).Hijack()
			if err != nil {
				return
			}
			defer nc.Close()
			line, err := brw.ReadString('\n')
			if err != nil {
				line = "error: " + err.Error()
			}
			io.WriteString(nc, "HTTP/1.1 200 OK\r\nContent-Length: "+strconv.Itoa(len(line))+"\r\nConnection: close\r\n\r\n"+line)
		default:
			b, err := io.ReadAll(r.Body)
			if err != nil {
				b = []byte("error: " + err.Error())
			}
			w.Write(b)
		}
	}), DefaultLimits())
	c := ts.dial(t)
	br := bufio.NewReader(c)
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
	readResponse(t, br, "GET")
	io.WriteString(c, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\n")
	time.Sleep(2 * parkAfter)
	io.WriteString(c, "body")
	if _, body := readResponse(t, br, "POST"); body != "body" {
		t.Fatalf("body %q, want %q", body, "body")
	}
	io.WriteString(c, "GET /hijack HTTP/1.1\r\nHost: a\r\n\r\n")
	time.Sleep(3 * parkAfter)
	io.WriteString(c, "late\n")
	if _, body := readResponse(t, br, "GET"); body != "late\n" {
		t.Fatalf("hijacker read %q, want %q", body, "late\n")
	}
}
