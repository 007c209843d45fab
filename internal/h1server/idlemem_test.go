package h1server

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"
)

// TestIdleConnMemory opens many keep-alive connections, one request each,
// and measures what the server holds per idle connection (heap and
// goroutine stacks, after GC). The clients run in a child process so
// that their memory is not counted. The bound is the 4 KiB; the
// figure is logged (go test -v -run IdleConnMemory).
func TestIdleConnMemory(t *testing.T) {
	if addr := os.Getenv("H1SERVER_IDLE_CLIENT"); addr != "" {
		idleClients(addr)
		return
	}
	if testing.Short() || runtime.GOOS != "linux" {
		t.Skip("opens 2000 connections; parking needs epoll")
	}
	const n = 2000
	// What bunsan's ConnContext keeps per connection: the connection
	// number and request count, and stub_status's entry.
	var stats sync.Map
	connCtx := func(ctx context.Context, c net.Conn) context.Context {
		ci := &struct {
			id, n uint64
			p     *int
		}{}
		cs := &struct {
			mu       sync.Mutex
			state, n int
		}{}
		stats.Store(c, cs)
		return context.WithValue(context.WithValue(ctx, ctxKey{1}, ci), ctxKey{2}, cs)
	}
	ts := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }),
		DefaultLimits(), func(s *Server) { s.ConnContext = connCtx })
	// Goroutines of servers that earlier tests (or -count runs) closed
	// may still be ending; their stacks would leave the figure short.
	settle()
	before := memNow()
	cmd := exec.Command(os.Args[0], "-test.run=^TestIdleConnMemory$")
	cmd.Env = append(os.Environ(), "H1SERVER_IDLE_CLIENT="+ts.addr, "H1SERVER_IDLE_N="+strconv.Itoa(n))
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stdin.Close(); cmd.Wait() }()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "ready\n" {
		t.Fatalf("client process: %q %v", line, err)
	}
	// Every connection is answered; wait until all are parked.
	waitFor(t, func() bool { return ts.srv.parkedCount() == n })
	after := memNow()
	per := (float64(after) - float64(before)) / n
	t.Logf("idle keep-alive connection: %.0f bytes (heap + stacks, %d connections)", per, n)
	if per > 4096 {
		t.Errorf("an idle connection costs %.0f bytes, more than 4 KiB", per)
	}
}

type ctxKey struct{ int }

// settle waits, boundedly, until the number of goroutines stops falling.
func settle() {
	last := runtime.NumGoroutine()
	for i := 0; i < 200; i++ {
		time.Sleep(10 * time.Millisecond)
		n := runtime.NumGoroutine()
		if n >= last {
			return
		}
		last = n
	}
}

func memNow() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc + m.StackInuse
}

// idleClients is the child: it opens the connections, sends one request
// on each, reads the answers, reports ready and holds them until stdin
// closes.
func idleClients(addr string) {
	n, _ := strconv.Atoi(os.Getenv("H1SERVER_IDLE_N"))
	conns := make([]net.Conn, 0, n)
	buf := make([]byte, 4096)
	for i := 0; i < n; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			fmt.Println("dial:", err)
			os.Exit(1)
		}
		c.SetDeadline(time.Now().Add(30 * time.Second))
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
		if _, err := c.Read(buf); err != nil {
			fmt.Println("read:", err)
			os.Exit(1)
		}
		conns = append(conns, c)
	}
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin)
	for _, c := range conns {
		c.Close()
	}
	os.Exit(0)
}
