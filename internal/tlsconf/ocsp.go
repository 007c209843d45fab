package tlsconf

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"golang.org/x/crypto/ocsp"
)

// Stapler fetches, caches and refreshes OCSP responses for ssl_stapling.
// As in nginx, a handshake never waits for the responder: it gets the
// cached response if there is a valid one, and a stale or missing one
// starts one fetch in the background. Responses are verified against the
// certificate's issuer before they are stapled, and kept by certificate
// (so a reload that loads the same certificate keeps its response).
type Stapler struct {
	Client *http.Client
	Now    func() time.Time
	Log    *slog.Logger // nil: the process's (SetLog)
	// Spawn runs a background fetch; nil means a new goroutine. Tests
	// run fetches in place.
	Spawn func(func())

	mu      sync.Mutex
	entries map[[32]byte]*staple
}

// staple is one certificate's OCSP state.
type staple struct {
	leaf, issuer *x509.Certificate
	url          string
	// Written under Stapler.mu.
	der        []byte
	nextUpdate time.Time
	refresh    time.Time // when to fetch again
	fetching   bool
}

// DefaultStapler is the process's stapler; the TLS plan uses it.
var DefaultStapler = &Stapler{
	Client: &http.Client{Timeout: 10 * time.Second},
	Now:    time.Now,
}

// Watch registers a certificate for stapling and starts a first fetch.
// responder overrides the certificate's own OCSP URL when not empty. It
// fails when the certificate names no responder or has no issuer in its
// chain or among extra (ssl_trusted_certificate).
func (s *Stapler) Watch(cert *tls.Certificate, responder string, extra []*x509.Certificate) error {
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return err
	}
	url := responder
	if url == "" && len(leaf.OCSPServer) > 0 {
		url = leaf.OCSPServer[0]
	}
	if url == "" {
		return fmt.Errorf("certificate %q names no OCSP responder; set ssl_stapling_responder or turn ssl_stapling off", leaf.Subject.CommonName)
	}
	issuer := findIssuer(leaf, cert.Certificate[1:], extra)
	if issuer == nil {
		return fmt.Errorf("no issuer certificate for %q in its chain or ssl_trusted_certificate: stapling needs it", leaf.Subject.CommonName)
	}
	key := sha256.Sum256(leaf.Raw)
	s.mu.Lock()
	if s.entries == nil {
		s.entries = map[[32]byte]*staple{}
	}
	e := s.entries[key]
	if e == nil || e.url != url {
		e = &staple{leaf: leaf, issuer: issuer, url: url}
		s.entries[key] = e
	}
	s.mu.Unlock()
	s.Response(cert) // starts the first fetch
	return nil
}

// Response returns the OCSP response to staple to cert now, or nil. When
// the cached one is due for refresh it starts a fetch in the background.
func (s *Stapler) Response(cert *tls.Certificate) []byte {
	key := sha256.Sum256(cert.Certificate[0])
	now := s.Now()
	s.mu.Lock()
	e := s.entries[key]
	if e == nil {
		s.mu.Unlock()
		return nil
	}
	start := !e.fetching && !now.Before(e.refresh)
	if start {
		e.fetching = true
	}
	var der []byte
	if e.der != nil && now.Before(e.nextUpdate) {
		der = e.der
	}
	s.mu.Unlock()
	if start {
		if s.Spawn != nil {
			s.Spawn(func() { s.fetch(e) })
		} else {
			go s.fetch(e)
		}
	}
	return der
}

// fetch asks the responder and records the outcome: a good response is
// kept until halfway to its nextUpdate; a failure is retried after a
// minute (and the old response, if still valid, keeps being stapled).
func (s *Stapler) fetch(e *staple) {
	der, resp, err := s.query(e)
	now := s.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	e.fetching = false
	if err != nil {
		e.refresh = now.Add(time.Minute)
		logTo(s.Log).Warn("OCSP stapling: no response", "responder", e.url, "certificate", e.leaf.Subject.CommonName, "error", err)
		return
	}
	e.der = der
	e.nextUpdate = resp.NextUpdate
	if resp.NextUpdate.IsZero() {
		// No nextUpdate: the responder always has fresh data; nginx
		// then refreshes hourly.
		e.nextUpdate = now.Add(time.Hour)
	}
	e.refresh = now.Add(e.nextUpdate.Sub(now) / 2)
}

// query sends one OCSP request (POST, as nginx's GET would need URL
// escaping and gains nothing here) and checks the answer.
func (s *Stapler) query(e *staple) ([]byte, *ocsp.Response, error) {
	req, err := ocsp.CreateRequest(e.leaf, e.issuer, &ocsp.RequestOptions{})
	if err != nil {
		return nil, nil, err
	}
	hr, err := s.Client.Post(e.url, "application/ocsp-request", bytes.NewReader(req))
	if err != nil {
		return nil, nil, err
	}
	defer hr.Body.Close()
	if hr.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("responder answered %s", hr.Status)
	}
	der, err := io.ReadAll(io.LimitReader(hr.Body, 1<<20))
	if err != nil {
		return nil, nil, err
	}
	resp, err := ocsp.ParseResponseForCert(der, e.leaf, e.issuer)
	if err != nil {
		return nil, nil, err
	}
	if resp.Status != ocsp.Good {
		return nil, nil, errors.New("certificate status is not good (revoked or unknown); not stapling it")
	}
	if now := s.Now(); !resp.NextUpdate.IsZero() && !now.Before(resp.NextUpdate) {
		return nil, nil, errors.New("response is already out of date")
	}
	return der, resp, nil
}

// findIssuer returns the certificate that signed leaf among the candidates.
func findIssuer(leaf *x509.Certificate, chain [][]byte, extra []*x509.Certificate) *x509.Certificate {
	var cands []*x509.Certificate
	for _, der := range chain {
		if c, err := x509.ParseCertificate(der); err == nil {
			cands = append(cands, c)
		}
	}
	cands = append(cands, extra...)
	for _, c := range cands {
		if leaf.CheckSignatureFrom(c) == nil {
			return c
		}
	}
	return nil
}
