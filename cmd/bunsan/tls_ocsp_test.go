package main

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"
)

// TestTLSStapling staples the answer of a local OCSP responder, fetched
// by bunsan from the URL in the certificate.
func TestTLSStapling(t *testing.T) {
	dir := t.TempDir()
	ca := newCA(t, dir, "ocsp")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int32
	responder := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		body, _ := io.ReadAll(r.Body)
		q, err := ocsp.ParseRequest(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		der, err := ocsp.CreateResponse(ca.cert, ca.cert, ocsp.Response{Status: ocsp.Good, SerialNumber: q.SerialNumber,
			ThisUpdate: time.Now().Add(-time.Minute), NextUpdate: time.Now().Add(time.Hour)}, ca.key)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Write(der)
	})}
	go responder.Serve(ln)
	t.Cleanup(func() { responder.Close() })
	cert, key := ca.issue(t, leaf{base: "stapled", names: []string{"stapled.test"}, ocsp: "http://" + ln.Addr().String() + "/"})
	lb := freePort(t)
	start(t, dir, fmt.Sprintf(`
http {
    server {
        listen %s ssl;
        ssl_certificate %s; ssl_certificate_key %s;
        ssl_stapling on;
        ssl_stapling_verify on;
        return 200 ok;
    }
}`, lb, cert, key))
	// The first response is fetched in the background, as in nginx: early
	// handshakes may carry none. Bounded in tries and time.
	deadline := time.Now().Add(20 * time.Second)
	var staple []byte
	for i := 0; i < 500 && len(staple) == 0 && time.Now().Before(deadline); i++ {
		cs, err := handshake(lb, &tls.Config{ServerName: "stapled.test", RootCAs: ca.pool()})
		if err != nil {
			t.Fatal(err)
		}
		staple = cs.OCSPResponse
	}
	if len(staple) == 0 {
		t.Fatalf("no OCSP response stapled after %d responder calls", calls.Load())
	}
	resp, err := ocsp.ParseResponseForCert(staple, mustLeaf(t, cert), ca.cert)
	if err != nil || resp.Status != ocsp.Good {
		t.Fatalf("stapled response: %v %+v", err, resp)
	}
	// Cached: more handshakes do not ask the responder again.
	before := calls.Load()
	for i := 0; i < 5; i++ {
		if _, err := handshake(lb, &tls.Config{ServerName: "stapled.test", RootCAs: ca.pool()}); err != nil {
			t.Fatal(err)
		}
	}
	if calls.Load() != before {
		t.Errorf("the responder was asked %d more times; the response should be cached", calls.Load()-before)
	}
}
