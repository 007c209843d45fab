package httpproxy

import (
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

// TestHeadersToBackend checks what reaches the backend: nginx's default
// Host $proxy_host, hop-by-hop headers removed (also those Connection
// names), X-Forwarded-For appended through $proxy_add_x_forwarded_for.
func TestHeadersToBackend(t *testing.T) {
	be := newBackend(t, "b", nil)
	p := startProxy(t, `http { upstream app { server `+be.addr+`; }
		server { listen LISTEN;
			location /default { proxy_pass http://app; }
			location /xff { proxy_pass http://app; proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for; proxy_set_header Host $host; proxy_set_header X-Empty ""; }
		} }`)
	resp, _ := p.rawResponse(t, "GET /default HTTP/1.1\r\nHost: client.test\r\nConnection: keep-alive, X-Secret\r\nX-Secret: s\r\n"+
		"Keep-Alive: 5\r\nProxy-Connection: keep-alive\r\nTE: trailers\r\nUpgrade: h2c\r\nExpect: 100-continue\r\nX-Keep: k\r\n\r\n")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	got := be.last(t)
	if got.Host != "app" {
		t.Errorf("Host %q, want the upstream name (nginx's $proxy_host)", got.Host)
	}
	for _, h := range []string{"X-Secret", "Keep-Alive", "Proxy-Connection", "Te", "Upgrade", "Expect"} {
		if v := got.Header.Get(h); v != "" {
			t.Errorf("hop-by-hop %s: %q reached the backend", h, v)
		}
	}
	if got.Header.Get("X-Keep") != "k" {
		t.Errorf("end-to-end header lost")
	}
	httpGet(t, p.url("/xff"), "X-Forwarded-For", "10.1.1.1", "Host", "front.test", "X-Empty", "e")
	got = be.last(t)
	if xff := got.Header.Get("X-Forwarded-For"); xff != "10.1.1.1, 127.0.0.1" {
		t.Errorf("X-Forwarded-For %q, want appended", xff)
	}
	if got.Host != "front.test" {
		t.Errorf("Host %q, want $host", got.Host)
	}
	if _, ok := got.Header["X-Empty"]; ok {
		t.Errorf("a header set to \"\" reached the backend")
	}
}

// TestHopHeadersFromBackend: hop-by-hop headers in the response and the
// ones its Connection names do not reach the client.
func TestHopHeadersFromBackend(t *testing.T) {
	be := newBackend(t, "b", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "X-Internal")
		w.Header().Set("X-Internal", "secret")
		w.Header().Set("Keep-Alive", "timeout=5")
		w.Header().Set("X-Pad", "avoid browser bug")
		w.Header().Set("X-Public", "p")
		io.WriteString(w, "ok")
	})
	p := startProxy(t, `http { server { listen LISTEN; location / { proxy_pass http://`+be.addr+`; } } }`)
	resp, body := httpGet(t, p.url("/"))
	if body != "ok" || resp.Header.Get("X-Public") != "p" {
		t.Fatalf("%q %v", body, resp.Header)
	}
	for _, h := range []string{"X-Internal", "Keep-Alive", "X-Pad"} {
		if resp.Header.Get(h) != "" {
			t.Errorf("%s reached the client", h)
		}
	}
}

// TestErrorPages: a refused connection gives 502, a backend slower than
// proxy_read_timeout 504, with nginx's page, and the error log names
// the upstream and the request.
func TestErrorPages(t *testing.T) {
	slow := newBackend(t, "slow", func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // answers only when the proxy gives up
	})
	dead := deadAddr(t)
	p := startProxy(t, `http { server { listen LISTEN;
		location /dead { proxy_pass http://`+dead+`; }
		location /slow { proxy_pass http://`+slow.addr+`; proxy_read_timeout 200ms; }
	} }`)
	resp, body := httpGet(t, p.url("/dead"))
	if resp.StatusCode != 502 || !strings.Contains(body, "<h1>502 Bad Gateway</h1>") {
		t.Errorf("dead backend: %d %q", resp.StatusCode, body)
	}
	resp, body = httpGet(t, p.url("/slow"))
	if resp.StatusCode != 504 {
		t.Errorf("slow backend: %d %q", resp.StatusCode, body)
	}
	logs := p.logs.String()
	if resp.StatusCode == 504 && !strings.Contains(body, "504 Gateway Time-out") {
		t.Errorf("504 page %q, want nginx's wording", body)
	}
	for _, want := range []string{"connect() failed", dead, "upstream timed out", `request="GET /slow"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("error log lacks %q:\n%s", want, logs)
		}
	}
}

func deadAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := ln.Addr().String()
	ln.Close()
	return a
}

// TestRetryRules: a POST that reached a failing backend is not sent again
// unless non_idempotent allows it; a GET is; a buffered body is resent
// whole.
func TestRetryRules(t *testing.T) {
	var failing atomic.Int64
	bad := newBackend(t, "bad", func(w http.ResponseWriter, r *http.Request) {
		failing.Add(1)
		w.WriteHeader(502)
	})
	good := newBackend(t, "good", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "good %s %s", r.Method, b)
	})
	// max_fails=0 keeps the bad server in rotation, so that round-robin
	// sends every other request to it.
	conf := `http { upstream app { server ` + bad.addr + ` max_fails=0; server ` + good.addr + `; }
		server { listen LISTEN;
			location /strict { proxy_pass http://app; proxy_next_upstream error timeout http_502; }
			location /loose { proxy_pass http://app; proxy_next_upstream error timeout http_502 non_idempotent; }
		} }`
	p := startProxy(t, conf)
	client := &http.Client{Timeout: 10 * time.Second}
	post := func(path string) (int, string) {
		resp, err := client.Post(p.url(path), "text/plain", strings.NewReader("payload"))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	// Round-robin alternates, so two requests meet the bad server once.
	for i := 0; i < 2; i++ {
		if resp, body := httpGet(t, p.url("/strict")); resp.StatusCode != 200 || !strings.HasPrefix(body, "good GET") {
			t.Errorf("GET %d: %d %q, want the retry to succeed", i, resp.StatusCode, body)
		}
	}
	codes := map[int]int{}
	for i := 0; i < 2; i++ {
		code, _ := post("/strict")
		codes[code]++
	}
	if codes[502] != 1 {
		t.Errorf("POST without non_idempotent: %v, want one 502 passed through", codes)
	}
	for i := 0; i < 2; i++ {
		if code, body := post("/loose"); code != 200 || body != "good POST payload" {
			t.Errorf("POST with non_idempotent %d: %d %q", i, code, body)
		}
	}
}

// TestClientMaxBodySize: 413 before anything reaches the backend, for a
// declared length and for a chunked body that grows past the limit.
func TestClientMaxBodySize(t *testing.T) {
	be := newBackend(t, "b", nil)
	p := startProxy(t, `http { client_max_body_size 10; server { listen LISTEN;
		location / { proxy_pass http://`+be.addr+`; }
		location /stream { proxy_pass http://`+be.addr+`; proxy_request_buffering off; }
	} }`)
	resp, _ := p.rawResponse(t, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n01234567890")
	if resp.StatusCode != 413 {
		t.Errorf("declared length: %d, want 413", resp.StatusCode)
	}
	resp, _ = p.rawResponse(t, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n6\r\n012345\r\n6\r\n678901\r\n0\r\n\r\n")
	if resp.StatusCode != 413 {
		t.Errorf("chunked: %d, want 413", resp.StatusCode)
	}
	resp, _ = p.rawResponse(t, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n0123456789")
	if resp.StatusCode != 200 {
		t.Errorf("at the limit: %d, want 200", resp.StatusCode)
	}
	if be.count() != 1 {
		t.Errorf("backend saw %d requests, want 1", be.count())
	}
	resp, body := p.rawResponse(t, "POST /stream HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nabcde")
	if resp.StatusCode != 200 || be.last(t).Body != "abcde" {
		t.Errorf("streamed body: %d %q %q", resp.StatusCode, body, be.last(t).Body)
	}
}

// TestFailoverUnderLoad: three backends, one killed while clients send
// GETs concurrently; no client sees an error. Bounded in requests and
// time.
func TestFailoverUnderLoad(t *testing.T) {
	bs := []*testBackend{newBackend(t, "a", nil), newBackend(t, "b", nil), newBackend(t, "c", nil)}
	p := startProxy(t, `http { upstream app { server `+bs[0].addr+`; server `+bs[1].addr+`; server `+bs[2].addr+`; keepalive 16; }
		server { listen LISTEN; location / { proxy_pass http://app; proxy_set_header Connection ""; } } }`)
	const workers, perWorker = 8, 150
	var sent, failed atomic.Int64
	var killOnce sync.Once
	var wg sync.WaitGroup
	errs := make(chan string, workers*perWorker)
	deadline := time.Now().Add(60 * time.Second)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 10 * time.Second}
			for i := 0; i < perWorker && time.Now().Before(deadline); i++ {
				if sent.Add(1) == workers*perWorker/3 {
					killOnce.Do(func() { bs[1].srv.Close() })
				}
				resp, err := client.Get(p.url(fmt.Sprintf("/r%d", i)))
				if err != nil {
					failed.Add(1)
					errs <- err.Error()
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					failed.Add(1)
					errs <- resp.Status
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	t.Logf("%d requests sent, %d failed", sent.Load(), failed.Load())
	for e := range errs {
		t.Errorf("client saw: %s", e)
	}
	if bs[0].count() == 0 || bs[2].count() == 0 {
		t.Errorf("survivors served %d and %d", bs[0].count(), bs[2].count())
	}
}

// TestStaleKeepaliveConnection: the backend closes its idle keep-alive
// connections just before each request; the requests must not fail.
// GETs are safe to send again on a new connection, which Go's transport
// does when a reused connection turns out closed. A POST written onto
// such a connection is not resent (the backend might have acted on it),
// as nginx does not resend it either.
func TestStaleKeepaliveConnection(t *testing.T) {
	var conns []net.Conn
	var mu sync.Mutex
	be := newBackendWith(t, "b", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "ok %s", b)
	}, func(srv *http.Server) {
		srv.ConnState = func(c net.Conn, s http.ConnState) {
			if s == http.StateIdle {
				mu.Lock()
				conns = append(conns, c)
				mu.Unlock()
			}
		}
	})
	p := startProxy(t, `http { upstream app { server `+be.addr+`; keepalive 4; }
		server { listen LISTEN; location / { proxy_pass http://app; proxy_next_upstream off; } } }`)
	client := &http.Client{Timeout: 10 * time.Second}
	for i := 0; i < 20; i++ {
		resp, err := client.Get(p.url(fmt.Sprintf("/%d", i)))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(b) != "ok " {
			t.Fatalf("request %d after the backend closed its idle connections: %d %q", i, resp.StatusCode, b)
		}
		// Close every idle backend connection, as a backend's idle
		// timeout would, before the next request.
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		conns = nil
		mu.Unlock()
	}
}

// TestAccessLog checks the combined default, a JSON format and 499 for a
// client that went away.
func TestAccessLog(t *testing.T) {
	slow := newBackend(t, "slow", func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	be := newBackend(t, "b", nil)
	p := startProxy(t, `http {
		log_format j escape=json '{"s":$status,"u":"$upstream_addr","ua":"$http_user_agent","rt":$request_time}';
		access_log DIR/access.log;
		server { listen LISTEN;
			location /json { access_log DIR/json.log j; proxy_pass http://`+be.addr+`; }
			location /slow { proxy_pass http://`+slow.addr+`; }
			location /off { access_log off; return 204; }
			location /cond { access_log DIR/cond.log combined if=$arg_log; return 204; }
			location / { proxy_pass http://`+be.addr+`; }
		} }`)
	httpGet(t, p.url("/plain?q=1"), "User-Agent", `ua"quote`, "Referer", "http://ref/")
	httpGet(t, p.url("/json"), "User-Agent", "a\"b\\c")
	httpGet(t, p.url("/off"))
	httpGet(t, p.url("/cond?log=0"))
	httpGet(t, p.url("/cond?log=1"))
	c, err := net.Dial("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(c, "GET /slow HTTP/1.1\r\nHost: a\r\n\r\n")
	waitFor(t, func() bool { return slow.count() == 1 })
	c.Close()
	waitFor(t, func() bool {
		return strings.Contains(readFile(t, filepath.Join(p.dir, "access.log")), `"GET /slow HTTP/1.1" 499`)
	})
	combined := readFile(t, filepath.Join(p.dir, "access.log"))
	want := `127.0.0.1 - - [`
	if !strings.HasPrefix(combined, want) || !strings.Contains(combined, `] "GET /plain?q=1 HTTP/1.1" 200 12 "http://ref/" "ua\x22quote"`) {
		t.Errorf("combined line:\n%s", combined)
	}
	if strings.Contains(combined, "/off") {
		t.Errorf("access_log off was logged")
	}
	if cond := readFile(t, filepath.Join(p.dir, "cond.log")); strings.Count(cond, "\n") != 1 || !strings.Contains(cond, "log=1") {
		t.Errorf("access_log if=: %q", cond)
	}
	js := readFile(t, filepath.Join(p.dir, "json.log"))
	if !strings.Contains(js, `{"s":200,"u":"`+be.addr+`","ua":"a\"b\\c","rt":`) {
		t.Errorf("json line: %s", js)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, _ := os.ReadFile(path)
	return string(b)
}

// waitFor polls cond: the proxy finishes its log line after the client
// has its answer, so the test waits for the effect, bounded at 10s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestClientBodyTimeout: a client that stops sending its body gets 408
// and the backend never sees the request.
func TestClientBodyTimeout(t *testing.T) {
	be := newBackend(t, "b", nil)
	p := startProxy(t, `http { client_body_timeout 300ms; server { listen LISTEN; location / { proxy_pass http://`+be.addr+`; } } }`)
	out := p.raw(t, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc")
	if !strings.HasPrefix(out, "HTTP/1.1 408 ") {
		t.Errorf("answer %q, want 408", firstLine(out))
	}
	if be.count() != 0 {
		t.Errorf("backend saw the request")
	}
}

// TestRetryLimits: proxy_next_upstream_tries bounds the attempts, and a
// streamed body (proxy_request_buffering off) is not sent twice.
func TestRetryLimits(t *testing.T) {
	var bads [3]*testBackend
	addrs := ""
	for i := range bads {
		bads[i] = newBackend(t, fmt.Sprint("bad", i), func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) })
		addrs += "server " + bads[i].addr + " max_fails=0; "
	}
	p := startProxy(t, `http { upstream app { `+addrs+` }
		server { listen LISTEN;
			location /tries { proxy_pass http://app; proxy_next_upstream http_503; proxy_next_upstream_tries 2; }
			location /all { proxy_pass http://app; proxy_next_upstream http_503 non_idempotent; }
			location /stream { proxy_pass http://app; proxy_next_upstream http_503 non_idempotent; proxy_request_buffering off; }
		} }`)
	total := func() int { return bads[0].count() + bads[1].count() + bads[2].count() }
	resp, _ := httpGet(t, p.url("/tries"))
	if resp.StatusCode != 503 || total() != 2 {
		t.Errorf("tries 2: %d after %d attempts", resp.StatusCode, total())
	}
	before := total()
	httpGet(t, p.url("/all"))
	if total()-before != 3 {
		t.Errorf("no limit: %d attempts, want every server once", total()-before)
	}
	before = total()
	r, err := http.Post(p.url("/stream"), "text/plain", strings.NewReader("body"))
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != 503 || total()-before != 1 {
		t.Errorf("streamed body: %d after %d attempts, want one", r.StatusCode, total()-before)
	}
}

// TestFirst: first is Header.Get for canonical keys.
func TestFirst(t *testing.T) {
	h := http.Header{"Content-Type": {"text/plain", "x"}, "Empty": {}, "X-Accel-Buffering": {"no"}}
	for _, key := range []string{"Content-Type", "Empty", "X-Accel-Buffering", "Missing"} {
		if got, want := first(h, key), h.Get(key); got != want {
			t.Errorf("first(%q) = %q, want %q", key, got, want)
		}
	}
}
