package httpproxy

import (
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

// TestHTTPSBackend proxies to a TLS backend: without verification (the
// nginx default), with the backend's certificate trusted, and with a
// name the certificate does not carry (502).
func TestHTTPSBackend(t *testing.T) {
	be := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "tls %s %s", r.Host, r.URL.RequestURI())
	}))
	t.Cleanup(be.Close)
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: be.Certificate().Raw})
	if err := os.WriteFile(ca, pemBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	addr := be.Listener.Addr().String()
	p := startProxy(t, `http { upstream secure { server `+addr+`; }
		server { listen LISTEN;
		location /plain/ { proxy_pass https://`+addr+`/; }
		location /verified/ { proxy_pass https://secure/; proxy_ssl_verify on; proxy_ssl_trusted_certificate `+ca+`; proxy_ssl_name example.com; }
		location /wrongname/ { proxy_pass https://secure/; proxy_ssl_verify on; proxy_ssl_trusted_certificate `+ca+`; proxy_ssl_name other.test; }
	} }`)
	tests := []struct {
		path string
		code int
		body string
	}{
		{"/plain/a", 200, "tls " + addr + " /a"},
		{"/verified/b", 200, "tls secure /b"},
		{"/wrongname/c", 502, ""},
	}
	for _, tt := range tests {
		resp, body := httpGet(t, p.url(tt.path))
		if resp.StatusCode != tt.code || (tt.body != "" && body != tt.body) {
			t.Errorf("%s: %d %q, want %d %q", tt.path, resp.StatusCode, body, tt.code, tt.body)
		}
	}
}
