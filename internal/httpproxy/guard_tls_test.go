package httpproxy

import (
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// serveTLS serves the proxy p's snapshot on a second, TLS listener
// guarded as the process guards TLS addresses, and returns its address.
func serveTLS(t *testing.T, p *testProxy) string {
	t.Helper()
	certSrv := httptest.NewTLSServer(http.NotFoundHandler())
	cert := certSrv.TLS.Certificates
	certSrv.Close()
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var cur atomic.Pointer[Snapshot]
	cur.Store(p.snap)
	// The router answers as the plain address does: same snapshot.
	rt := &Router{Addr: p.addr, Current: &cur}
	ln := GuardTLSListener(tls.NewListener(raw, &tls.Config{Certificates: cert, NextProtos: []string{"h2", "http/1.1"}}), rt.Limits)
	srv := &http.Server{Handler: rt, ConnContext: ConnContext, TLSConfig: &tls.Config{NextProtos: []string{"h2", "http/1.1"}}}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return raw.Addr().String()
}

func tlsRaw(t *testing.T, addr, req string) string {
	t.Helper()
	c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, req)
	b, _ := io.ReadAll(c)
	return string(b)
}

// TestGuardOverTLS: the same refusals hold over TLS, and the variables
// read from the TLS state still work behind the guard.
func TestGuardOverTLS(t *testing.T) {
	be := newBackend(t, "b", nil)
	p := startProxy(t, `http { server { listen LISTEN;
		location /vars { return 200 "$scheme $https $ssl_protocol"; }
		location / { proxy_pass http://`+be.addr+`; } } }`)
	addr := serveTLS(t, p)
	out := tlsRaw(t, addr, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
	if !strings.HasPrefix(out, "HTTP/1.1 400 ") {
		t.Errorf("CL+TE over TLS: %q", firstLine(out))
	}
	if be.count() != 0 {
		t.Errorf("backend saw the request")
	}
	out = tlsRaw(t, addr, "GET /vars HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
	if !strings.HasSuffix(out, "https on TLSv1.3") {
		t.Errorf("TLS variables behind the guard: %q", out)
	}
	// HTTP/2 negotiated by ALPN is handed to Go's HTTP/2 server.
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, ForceAttemptHTTP2: true}}
	resp, err := client.Get("https://" + addr + "/vars")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.ProtoMajor != 2 || resp.StatusCode != 200 {
		t.Errorf("h2: %s %d", resp.Proto, resp.StatusCode)
	}
}

// TestGuardH2CPreface: HTTP/2 with prior knowledge passes the guard
// untouched.
func TestGuardH2CPreface(t *testing.T) {
	client, server := net.Pipe()
	preface := h2Preface + "\x00\x00\x00\x04\x00\x00\x00\x00\x00"
	go func() {
		client.Write([]byte(preface))
		client.Close()
	}()
	g := newGuardConn(server, DefaultLimits())
	server.SetDeadline(time.Now().Add(5 * time.Second))
	out, _ := io.ReadAll(g)
	if string(out) != preface {
		t.Errorf("guard passed %q, want the preface and frame unchanged", out)
	}
}
