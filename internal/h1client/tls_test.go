package h1client

import (
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestTLS: a TLS backend; the connection is kept alive, and a new one
// resumes the session through the configuration's cache.
func TestTLS(t *testing.T) {
	resumed := make(chan bool, 4)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "secure")
	}))
	srv.TLS = &tls.Config{VerifyConnection: func(cs tls.ConnectionState) error {
		resumed <- cs.DidResume
		return nil
	}}
	srv.StartTLS()
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "https://")
	p := New(Options{TLS: &tls.Config{InsecureSkipVerify: true, ClientSessionCache: tls.NewLRUClientSessionCache(0)}})
	defer p.Close()
	for i, want := range []struct{ reused, resumed, handshake bool }{{false, false, true}, {true, false, false}, {false, true, true}} {
		if i == 2 {
			p.Close() // the next round trip needs a new connection
		}
		resp, info, err := get(t, p, addr, "GET", "/")
		if err != nil {
			t.Fatal(err)
		}
		if body, err := readAll(resp); err != nil || body != "secure" {
			t.Fatalf("request %d: %q %v", i, body, err)
		}
		if info.Reused != want.reused {
			t.Errorf("request %d: reused %v, want %v", i, info.Reused, want.reused)
		}
		if want.handshake {
			if r := <-resumed; r != want.resumed {
				t.Errorf("request %d: resumed %v, want %v", i, r, want.resumed)
			}
		}
	}
}
