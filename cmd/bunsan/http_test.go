package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// countingBackend is a loopback server that names itself and counts the
// requests that reached it.
func countingBackend(t *testing.T, name string) (string, *atomic.Int64, *http.Server) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var n atomic.Int64
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		io.Copy(io.Discard, r.Body)
		fmt.Fprintf(w, "%s %s", name, r.URL.RequestURI())
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String(), &n, srv
}

// TestHTTPSmugglingRefused sends ambiguous requests to the real binary:
// each is answered 400/501 with the connection closed, and none reaches
// the backend.
func TestHTTPSmugglingRefused(t *testing.T) {
	be, hits, _ := countingBackend(t, "b")
	lb := freePort(t)
	start(t, t.TempDir(), fmt.Sprintf(`http { server { listen %s; location / { proxy_pass http://%s; } } }`, lb, be))
	for _, req := range []string{
		"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\tchunked, x\r\n\r\n0\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nContent-Length: 5\r\n\r\nhello",
		"GET / HTTP/1.1\r\nHost: a\r\nX: y\r\n folded\r\n\r\n",
		"GET / HTTP/1.1\nHost: a\n\n",
	} {
		c, err := net.Dial("tcp", lb)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		io.WriteString(c, req)
		out, _ := io.ReadAll(c) // the proxy closes the connection
		c.Close()
		if !strings.HasPrefix(string(out), "HTTP/1.1 400") && !strings.HasPrefix(string(out), "HTTP/1.1 501") {
			t.Errorf("%q: answer %q", req, strings.SplitN(string(out), "\r\n", 2)[0])
		}
		if strings.Count(string(out), "HTTP/1.1 ") != 1 {
			t.Errorf("%q: more than one answer", req)
		}
	}
	if hits.Load() != 0 {
		t.Errorf("the backend saw %d requests", hits.Load())
	}
}

// TestHTTPFailoverUnderLoad kills one of three backends while clients
// send GETs concurrently: no client sees an error, and the access log
// has a line per request. Bounded in count and time.
func TestHTTPFailoverUnderLoad(t *testing.T) {
	a, _, _ := countingBackend(t, "a")
	b, _, bsrv := countingBackend(t, "b")
	c, _, _ := countingBackend(t, "c")
	lb := freePort(t)
	dir := t.TempDir()
	p := start(t, dir, fmt.Sprintf(`http {
    log_format up '$status $upstream_addr $upstream_status';
    access_log logs/access.log up;
    upstream app { server %s; server %s; server %s; keepalive 8; }
    server { listen %s; location / { proxy_pass http://app; proxy_set_header Connection ""; } }
}`, a, b, c, lb))
	const workers, each = 6, 100
	var sent atomic.Int64
	var once sync.Once
	var wg sync.WaitGroup
	errs := make(chan string, workers*each)
	deadline := time.Now().Add(60 * time.Second)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 10 * time.Second}
			for i := 0; i < each && time.Now().Before(deadline); i++ {
				if sent.Add(1) == workers*each/3 {
					once.Do(func() { bsrv.Close() })
				}
				resp, err := client.Get("http://" + lb + "/x")
				if err != nil {
					errs <- err.Error()
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					errs <- resp.Status
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("client saw %s", e)
	}
	// The log is written after each answer; stop bunsan so that every
	// line is out, then count them.
	p.signal(t, 3) // SIGQUIT: graceful
	p.wait(t)
	f, err := os.Open(filepath.Join(dir, "logs", "access.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lines := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines++
		if !strings.HasPrefix(sc.Text(), "200 ") {
			t.Errorf("log line %q", sc.Text())
		}
	}
	if lines != int(sent.Load()) {
		t.Errorf("%d log lines for %d requests", lines, sent.Load())
	}
}
