package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestRenewAt(t *testing.T) {
	nb := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	leaf := &x509.Certificate{NotBefore: nb, NotAfter: nb.Add(90 * 24 * time.Hour)}
	tests := []struct {
		frac float64
		want time.Time
	}{
		{0, nb.Add(60 * 24 * time.Hour)},                    // two thirds of 90 days
		{0.5, nb.Add(60*24*time.Hour - 108*time.Hour)},      // minus half of 9 days
		{0.999999, nb.Add(51*24*time.Hour + 1*time.Second)}, // never earlier than 51 days
	}
	for _, tt := range tests {
		got := renewAt(leaf, tt.frac)
		if d := got.Sub(tt.want); d < -time.Second || d > time.Second {
			t.Errorf("frac %v: %v, want %v", tt.frac, got, tt.want)
		}
	}
}

func TestHTTPChallenges(t *testing.T) {
	m := &ACMEManager{tokens: map[string]string{"tok": "tok.thumb"}}
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("next")) })
	h := m.HTTPChallenges(next)
	tests := []struct {
		method, path string
		tls          bool
		want         string
	}{
		{"GET", "/.well-known/acme-challenge/tok", false, "tok.thumb"},
		{"GET", "/.well-known/acme-challenge/other", false, "next"},
		{"POST", "/.well-known/acme-challenge/tok", false, "next"},
		{"GET", "/.well-known/acme-challenge/tok", true, "next"}, // only on plain HTTP
		{"GET", "/", false, "next"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(tt.method, tt.path, nil)
		if tt.tls {
			r.TLS = &tls.ConnectionState{}
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Body.String() != tt.want {
			t.Errorf("%s %s tls=%v: %q, want %q", tt.method, tt.path, tt.tls, w.Body.String(), tt.want)
		}
	}
}
