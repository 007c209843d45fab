package httpproxy

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestAddHeaderAndErrorPage(t *testing.T) {
	be := newBackend(t, "b", func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/missing", "/err/missing":
			w.WriteHeader(404)
			io.WriteString(w, "backend 404")
		case "/sorry":
			io.WriteString(w, "sorry page")
		default:
			io.WriteString(w, "ok")
		}
	})
	p := startProxy(t, `http { server { listen LISTEN;
		add_header X-Server srv;
		location / { add_header X-A a; add_header X-Always yes always; proxy_pass http://`+be.addr+`; }
		location /err/ { proxy_intercept_errors on; error_page 404 =200 /sorry; proxy_pass http://`+be.addr+`; }
		location /named { error_page 502 @fallback; proxy_pass http://127.0.0.1:1; }
		location @fallback { return 200 "fallback"; }
		location /code { error_page 403 = /sorry; deny all; proxy_pass http://`+be.addr+`; }
		location /redir { error_page 502 https://status.example.com/; proxy_pass http://127.0.0.1:1; }
		location = /sorry { proxy_pass http://`+be.addr+`; }
		location /inherit { proxy_pass http://`+be.addr+`; }
	} }`)
	tests := []struct {
		path      string
		code      int
		body      string
		hdr, want string
	}{
		{"/ok", 200, "ok", "X-A", "a"},
		{"/ok", 200, "ok", "X-Always", "yes"},
		{"/missing", 404, "backend 404", "X-A", ""},
		{"/missing", 404, "backend 404", "X-Always", "yes"},
		{"/inherit", 200, "ok", "X-Server", "srv"},
		{"/err/missing", 200, "sorry page", "", ""},
		{"/named", 502, "fallback", "", ""},
		{"/code", 200, "sorry page", "", ""},
		{"/redir", 302, "", "Location", "https://status.example.com/"},
	}
	for _, tt := range tests {
		resp, body := httpGet(t, p.url(tt.path))
		if resp.StatusCode != tt.code || (tt.body != "" && body != tt.body) || (tt.hdr != "" && resp.Header.Get(tt.hdr) != tt.want) {
			t.Errorf("%s: %d %q %s=%q; want %d %q %s=%q", tt.path, resp.StatusCode, body, tt.hdr, resp.Header.Get(tt.hdr), tt.code, tt.body, tt.hdr, tt.want)
		}
	}
}

func TestAllowDenyAndRealIP(t *testing.T) {
	be := newBackend(t, "b", nil)
	p := startProxy(t, `http { server { listen LISTEN;
		location /local { allow 127.0.0.0/8; deny all; proxy_pass http://`+be.addr+`; }
		location /nolocal { deny 127.0.0.1; allow all; proxy_pass http://`+be.addr+`; }
		location /behind { set_real_ip_from 127.0.0.1; real_ip_header X-Forwarded-For; real_ip_recursive on;
			deny 203.0.113.7; allow all; return 200 "$remote_addr"; }
	} }`)
	if resp, _ := httpGet(t, p.url("/local")); resp.StatusCode != 200 {
		t.Errorf("/local: %d", resp.StatusCode)
	}
	if resp, _ := httpGet(t, p.url("/nolocal")); resp.StatusCode != 403 {
		t.Errorf("/nolocal: %d", resp.StatusCode)
	}
	if _, body := httpGet(t, p.url("/behind"), "X-Forwarded-For", "198.51.100.2, 127.0.0.1"); body != "198.51.100.2" {
		t.Errorf("real_ip recursive: %q", body)
	}
}

// TestRealIPServerLevel: the client address from real_ip decides
// allow/deny, as nginx's realip runs before access.
func TestRealIPServerLevel(t *testing.T) {
	be := newBackend(t, "b", nil)
	p := startProxy(t, `http { set_real_ip_from 127.0.0.0/8; server { listen LISTEN;
		location / { deny 203.0.113.7; allow all; proxy_pass http://`+be.addr+`; proxy_set_header X-Real-IP $remote_addr; }
	} }`)
	if resp, _ := httpGet(t, p.url("/"), "X-Real-IP", "203.0.113.7"); resp.StatusCode != 403 {
		t.Errorf("denied real address: %d", resp.StatusCode)
	}
	httpGet(t, p.url("/"), "X-Real-IP", "203.0.113.8")
	if got := be.last(t).Header.Get("X-Real-IP"); got != "203.0.113.8" {
		t.Errorf("X-Real-IP to backend %q", got)
	}
}

func TestProxyResponseHeaders(t *testing.T) {
	be := newBackend(t, "b", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "http://"+r.Host+"/new/place")
		w.Header().Set("X-Powered-By", "php")
		w.Header().Set("X-Accel-Expires", "10")
		w.Header().Set("Server", "backend")
		w.WriteHeader(302)
	})
	p := startProxy(t, `http { server { listen LISTEN;
		location /app/ { proxy_pass http://`+be.addr+`/new/; proxy_hide_header X-Powered-By; }
		location /pass/ { proxy_pass http://`+be.addr+`/new/; proxy_pass_header X-Accel-Expires; proxy_redirect off; }
		location /custom/ { proxy_pass http://`+be.addr+`; proxy_redirect ~^http://[^/]+/new/(.*)$ https://front.test/$1; }
	} }`)
	resp, _ := httpGet(t, p.url("/app/x"))
	if loc := resp.Header.Get("Location"); loc != "/app/place" {
		t.Errorf("default proxy_redirect: Location %q, want /app/place", loc)
	}
	if resp.Header.Get("X-Powered-By") != "" || resp.Header.Get("X-Accel-Expires") != "" {
		t.Errorf("hidden headers passed: %v", resp.Header)
	}
	if resp.Header.Get("Server") != "backend" {
		t.Errorf("Server header %q", resp.Header.Get("Server"))
	}
	resp, _ = httpGet(t, p.url("/pass/x"))
	if resp.Header.Get("X-Accel-Expires") != "10" || !strings.HasPrefix(resp.Header.Get("Location"), "http://") {
		t.Errorf("proxy_pass_header / redirect off: %v", resp.Header)
	}
	resp, _ = httpGet(t, p.url("/custom/x"))
	if loc := resp.Header.Get("Location"); loc != "https://front.test/place" {
		t.Errorf("regex proxy_redirect: %q", loc)
	}
}

// TestBufferingOffStreams: with proxy_buffering off, each event reaches
// the client while the backend is still holding the response open.
func TestBufferingOffStreams(t *testing.T) {
	next := make(chan struct{})
	be := newBackend(t, "sse", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for i := 0; i < 3; i++ {
			fmt.Fprintf(w, "data: %d\n\n", i)
			w.(http.Flusher).Flush()
			select {
			case <-next:
			case <-r.Context().Done():
				return
			}
		}
	})
	p := startProxy(t, `http { server { listen LISTEN; location / { proxy_pass http://`+be.addr+`; proxy_buffering off; } } }`)
	resp, err := http.Get(p.url("/events"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	for i := 0; i < 3; i++ {
		// The backend sends event i+1 only after the client has event i:
		// if the proxy held data back, this would never finish.
		line, err := br.ReadString('\n')
		if err != nil || line != fmt.Sprintf("data: %d\n", i) {
			t.Fatalf("event %d: %q %v", i, line, err)
		}
		br.ReadString('\n')
		next <- struct{}{}
	}
}

// TestWebSocketUpgrade passes an upgrade through with nginx's recipe and
// echoes bytes both ways.
func TestWebSocketUpgrade(t *testing.T) {
	be := newBackend(t, "ws", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "websocket" || !strings.Contains(strings.ToLower(r.Header.Get("Connection")), "upgrade") {
			http.Error(w, "no upgrade: "+r.Header.Get("Connection"), 400)
			return
		}
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
		brw.Flush()
		line, _ := brw.ReadString('\n')
		brw.WriteString("echo " + line)
		brw.Flush()
	})
	p := startProxy(t, `http {
		map $http_upgrade $connection_upgrade { default upgrade; '' close; }
		server { listen LISTEN; location / { proxy_pass http://`+be.addr+`;
			proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection $connection_upgrade; } } }`)
	c, err := net.Dial("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, "GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 101 {
		t.Fatalf("handshake: %v %v", resp, err)
	}
	io.WriteString(c, "hello\n")
	line, err := br.ReadString('\n')
	if line != "echo hello\n" {
		t.Fatalf("echo %q %v", line, err)
	}
}

// TestStickyCookie: the first answer sets the cookie; requests carrying
// it stay on that server.
func TestStickyCookie(t *testing.T) {
	a, b := newBackend(t, "a", nil), newBackend(t, "b", nil)
	p := startProxy(t, `http { upstream app { server `+a.addr+`; server `+b.addr+`; sticky cookie srv_id expires=1h path=/; }
		server { listen LISTEN; location / { proxy_pass http://app; } } }`)
	resp, body := httpGet(t, p.url("/"))
	ck := resp.Header.Get("Set-Cookie")
	if !strings.HasPrefix(ck, "srv_id=") || !strings.Contains(ck, "path=/") {
		t.Fatalf("Set-Cookie %q", ck)
	}
	first := strings.Fields(body)[0]
	val := strings.TrimPrefix(strings.Split(ck, ";")[0], "srv_id=")
	for i := 0; i < 6; i++ {
		resp, body := httpGet(t, p.url("/"), "Cookie", "srv_id="+val)
		if got := strings.Fields(body)[0]; got != first {
			t.Fatalf("request %d went to %s, want %s", i, got, first)
		}
		if resp.Header.Get("Set-Cookie") != "" {
			t.Errorf("cookie set again although it was right")
		}
	}
}

// TestKeepaliveRequests closes the client connection after the limit.
func TestKeepaliveRequests(t *testing.T) {
	p := startProxy(t, `http { keepalive_requests 2; server { listen LISTEN; location / { return 200 "x"; } } }`)
	out := p.raw(t, strings.Repeat("GET / HTTP/1.1\r\nHost: a\r\n\r\n", 3))
	if n := strings.Count(out, "HTTP/1.1 200"); n != 2 {
		t.Errorf("%d answers on one connection, want 2:\n%s", n, out)
	}
}

// TestStickyRouteAndLearn: sticky route follows the route in a cookie
// or argument to the server with that route=; sticky learn binds the
// session the backend created to the backend that created it.
func TestStickyRouteAndLearn(t *testing.T) {
	a := newBackend(t, "a", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "sid", Value: "sess-a"})
		io.WriteString(w, "a")
	})
	b := newBackend(t, "b", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "sid", Value: "sess-b"})
		io.WriteString(w, "b")
	})
	p := startProxy(t, `http {
		upstream routed { server `+a.addr+` route=ra; server `+b.addr+` route=rb; sticky route $cookie_route $arg_route; }
		upstream learned { server `+a.addr+`; server `+b.addr+`; sticky learn create=$upstream_cookie_sid lookup=$cookie_sid zone=s:1m; }
		server { listen LISTEN;
			location /r { proxy_pass http://routed; }
			location /l { proxy_pass http://learned; }
		} }`)
	for i := 0; i < 4; i++ {
		if _, body := httpGet(t, p.url("/r"), "Cookie", "route=rb"); body != "b" {
			t.Errorf("route=rb cookie went to %q", body)
		}
		if _, body := httpGet(t, p.url("/r?route=ra")); body != "a" {
			t.Errorf("route=ra argument went to %q", body)
		}
	}
	_, first := httpGet(t, p.url("/l"))
	sess := "sess-" + first
	for i := 0; i < 4; i++ {
		if _, body := httpGet(t, p.url("/l"), "Cookie", "sid="+sess); body != first {
			t.Errorf("learned session %s went to %q, want %q", sess, body, first)
		}
	}
}
