package main

import (
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestHTTP2 serves HTTP/2 and HTTP/1.1 on one TLS port chosen by ALPN
// ("listen ... ssl http2" and "http2 on;"), not on a port without it, and
// carries many concurrent streams on one connection through the proxy.
func TestHTTP2(t *testing.T) {
	dir := t.TempDir()
	ca := newCA(t, dir, "h2")
	cert, key := ca.issue(t, leaf{base: "h2", names: []string{"h2.test"}})
	a, b := backend(t, "a"), backend(t, "b")
	viaListen, viaDirective, plain := freePort(t), freePort(t), freePort(t)
	start(t, dir, fmt.Sprintf(`
http {
    upstream app { server %s; server %s; }
    server { listen %[5]s ssl http2; ssl_certificate %[3]s; ssl_certificate_key %[4]s; location / { proxy_pass http://app; } }
    server { listen %[6]s ssl; http2 on; ssl_certificate %[3]s; ssl_certificate_key %[4]s; location / { proxy_pass http://app; } }
    server { listen %[7]s ssl; ssl_certificate %[3]s; ssl_certificate_key %[4]s; location / { proxy_pass http://app; } }
}`, a, b, cert, key, viaListen, viaDirective, plain))
	for _, tt := range []struct {
		addr, alpn string
	}{{viaListen, "h2"}, {viaDirective, "h2"}, {plain, "http/1.1"}} {
		cs, err := handshake(tt.addr, &tls.Config{ServerName: "h2.test", RootCAs: ca.pool(), NextProtos: []string{"h2", "http/1.1"}})
		if err != nil {
			t.Fatal(err)
		}
		if cs.NegotiatedProtocol != tt.alpn {
			t.Errorf("%s: ALPN chose %q, want %q", tt.addr, cs.NegotiatedProtocol, tt.alpn)
		}
		// A client that knows only HTTP/1.1 is served on the same port.
		cs, err = handshake(tt.addr, &tls.Config{ServerName: "h2.test", RootCAs: ca.pool(), NextProtos: []string{"http/1.1"}})
		if err != nil || cs.NegotiatedProtocol != "http/1.1" {
			t.Errorf("%s: an HTTP/1.1 client: %q %v", tt.addr, cs.NegotiatedProtocol, err)
		}
	}
	// Many streams at once over one HTTP/2 connection.
	tr := &http.Transport{TLSClientConfig: &tls.Config{ServerName: "h2.test", RootCAs: ca.pool()}, ForceAttemptHTTP2: true, MaxConnsPerHost: 1}
	defer tr.CloseIdleConnections()
	client := &http.Client{Timeout: 20 * time.Second, Transport: tr}
	const streams = 100
	var wg sync.WaitGroup
	errs := make(chan error, streams)
	for i := 0; i < streams; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			resp, err := client.Post(fmt.Sprintf("https://%s/s/%d", viaListen, i), "text/plain", strings.NewReader("body"))
			if err != nil {
				errs <- err
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.ProtoMajor != 2 || resp.StatusCode != 200 || !strings.Contains(string(body), fmt.Sprintf(" /s/%d ", i)) {
				errs <- fmt.Errorf("stream %d: %s %d %q", i, resp.Proto, resp.StatusCode, body)
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
