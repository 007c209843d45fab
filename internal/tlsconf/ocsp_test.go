package tlsconf

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"
)

// ocspResponder is an OCSP responder on loopback answering for one CA
// with the status the test sets, valid for an hour from the test's clock.
type ocspResponder struct {
	url    string
	ca     *x509.Certificate
	key    crypto.Signer
	mu     sync.Mutex
	status int // ocsp.Good, ocsp.Revoked; -1 answers 500
	calls  int
	clock  func() time.Time
}

func (r *ocspResponder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	q, err := ocsp.ParseRequest(body)
	r.mu.Lock()
	r.calls++
	status := r.status
	r.mu.Unlock()
	if err != nil || status < 0 {
		http.Error(w, "no", http.StatusInternalServerError)
		return
	}
	now := r.clock()
	der, err := ocsp.CreateResponse(r.ca, r.ca, ocsp.Response{
		Status: status, SerialNumber: q.SerialNumber, ThisUpdate: now, NextUpdate: now.Add(time.Hour),
		RevokedAt: now, RevocationReason: ocsp.Unspecified,
	}, r.key)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/ocsp-response")
	w.Write(der)
}

func (r *ocspResponder) set(status int) {
	r.mu.Lock()
	r.status = status
	r.mu.Unlock()
}

func (r *ocspResponder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls
}

// caAndLeaf makes a CA and a leaf it signed that names ocspURL.
func caAndLeaf(t *testing.T, ocspURL string) (*x509.Certificate, crypto.Signer, tls.Certificate) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ocsp CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(48 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	leafKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leafTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "stapled.test"}, DNSNames: []string{"stapled.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), OCSPServer: []string{ocspURL}}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, leafKey.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	return ca, caKey, tls.Certificate{Certificate: [][]byte{leafDER, caDER}, PrivateKey: leafKey}
}

func TestStapler(t *testing.T) {
	clock := time.Now()
	now := func() time.Time { return clock }
	// The responder's URL is known once it listens; the leaf names it.
	var resp *ocspResponder
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	url := "http://" + ln.Addr().String() + "/"
	ca, caKey, cert := caAndLeaf(t, url)
	resp = &ocspResponder{ca: ca, key: caKey, status: ocsp.Good, clock: now, url: url}
	srv := &http.Server{Handler: resp}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	s := &Stapler{Client: &http.Client{Timeout: 10 * time.Second}, Now: now, Log: slog.New(slog.DiscardHandler), Spawn: func(f func()) { f() }}
	if err := s.Watch(&cert, "", nil); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name    string
		advance time.Duration
		status  int
		staple  bool
		calls   int
	}{
		{"fetched at watch", 0, ocsp.Good, true, 1},
		{"cached", 10 * time.Minute, ocsp.Good, true, 1},
		{"refreshed at half-life", 25 * time.Minute, ocsp.Good, true, 2},
		{"responder down: the valid old response stays", 31 * time.Minute, -1, true, 3},
		{"retried after a minute, revoked now: not stapled once expired", 40 * time.Minute, ocsp.Revoked, false, 4},
	}
	for _, st := range steps {
		clock = clock.Add(st.advance)
		resp.set(st.status)
		got := s.Response(&cert)
		if (got != nil) != st.staple || resp.count() != st.calls {
			t.Errorf("%s: stapled %v after %d calls; want %v after %d", st.name, got != nil, resp.count(), st.staple, st.calls)
		}
		if got != nil {
			if _, err := ocsp.ParseResponseForCert(got, mustParse(t, cert.Certificate[0]), ca); err != nil {
				t.Errorf("%s: stapled response does not parse: %v", st.name, err)
			}
		}
	}
	noURL := cert
	if err := s.Watch(&tls.Certificate{Certificate: [][]byte{ca.Raw}}, "", nil); err == nil {
		t.Error("a certificate without a responder should not be watched")
	}
	_ = noURL
}

func mustParse(t *testing.T, der []byte) *x509.Certificate {
	t.Helper()
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
