package httpproxy

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"bunsan/internal/config"
	"bunsan/internal/h1server"
	"bunsan/internal/upstream"
)

// testBackend is a real HTTP server on loopback that names itself in its
// answers and remembers the requests that reached it.
type testBackend struct {
	name string
	addr string
	srv  *http.Server
	mu   sync.Mutex
	reqs []seenRequest
	hits atomic.Int64
}

type seenRequest struct {
	Method, URI, Host string
	Header            http.Header
	Body              string
}

func newBackend(t testing.TB, name string, h http.HandlerFunc) *testBackend {
	t.Helper()
	return newBackendWith(t, name, h, nil)
}

// newBackendWith is newBackend with a chance to adjust the server before
// it starts serving.
func newBackendWith(t testing.TB, name string, h http.HandlerFunc, setup func(*http.Server)) *testBackend {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &testBackend{name: name, addr: ln.Addr().String()}
	b.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		b.mu.Lock()
		b.reqs = append(b.reqs, seenRequest{r.Method, r.RequestURI, r.Host, r.Header.Clone(), string(body)})
		b.mu.Unlock()
		b.hits.Add(1)
		if h != nil {
			h(w, r)
			return
		}
		w.Header().Set("X-Backend", name)
		fmt.Fprintf(w, "%s %s", name, r.RequestURI)
	})}
	if setup != nil {
		setup(b.srv)
	}
	go b.srv.Serve(ln)
	t.Cleanup(func() { b.srv.Close() })
	return b
}

func (b *testBackend) last(t *testing.T) seenRequest {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.reqs) == 0 {
		t.Fatalf("backend %s saw no request", b.name)
	}
	return b.reqs[len(b.reqs)-1]
}

func (b *testBackend) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.reqs)
}

// testProxy is bunsan's HTTP data path serving one configuration on a
// loopback port, through h1server as the process serves plain listeners.
type testProxy struct {
	addr string
	snap *Snapshot
	dir  string
	logs *syncLog
}

type syncLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startProxy loads conf, in which LISTEN stands for the address to
// listen on, and serves it.
func startProxy(t testing.TB, conf string) *testProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	dir := t.TempDir()
	file := filepath.Join(dir, "bunsan.conf")
	conf = strings.ReplaceAll(conf, "LISTEN", addr)
	conf = strings.ReplaceAll(conf, "DIR", dir)
	if err := os.WriteFile(file, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	m, _, err := config.Load(config.Options{Prefix: dir + "/", File: file})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	elog := &syncLog{}
	log := slog.New(slog.NewTextHandler(elog, &slog.HandlerOptions{Level: slog.LevelInfo}))
	snap, err := Build(m, upstream.NewStore(nil), log)
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	var cur atomic.Pointer[Snapshot]
	cur.Store(snap)
	rt := &Router{Addr: addr, Current: &cur}
	srv := &h1server.Server{Handler: rt, ConnContext: ConnContext, Limits: rt.Limits, Refuse: RefusedRequest}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close(); snap.Close() })
	return &testProxy{addr: addr, snap: snap, dir: dir, logs: elog}
}

func (p *testProxy) url(path string) string { return "http://" + p.addr + path }

// raw sends bytes on a fresh connection and returns everything the
// proxy answers until it closes the connection (or 5s pass, a bound
// for a broken test, not a measurement).
func (p *testProxy) raw(t *testing.T, req string) string {
	t.Helper()
	c, err := net.Dial("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(c)
	return string(b)
}

// rawStatus sends req and reads one response.
func (p *testProxy) rawResponse(t *testing.T, req string) (*http.Response, string) {
	t.Helper()
	c, err := net.Dial("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("reading response to %q: %v", req, err)
	}
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func httpGet(t *testing.T, url string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		if strings.EqualFold(hdr[i], "Host") {
			req.Host = hdr[i+1]
			continue
		}
		req.Header.Add(hdr[i], hdr[i+1])
	}
	client := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func newBackendB(b *testing.B) string { return newBackend(b, "bench", nil).addr }

func startProxyB(b *testing.B, conf string) string { return startProxy(b, conf).addr }
