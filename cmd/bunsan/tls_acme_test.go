package main

import (
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"bunsan/internal/tlsconf/pebbletest"
)

func port(addr string) int {
	var p int
	fmt.Sscanf(addr[strings.LastIndex(addr, ":")+1:], "%d", &p)
	return p
}

// TestACMEPebble obtains a certificate from Pebble with the acme module's
// syntax (TLS-ALPN-01 on bunsan's TLS port), serves it, and after a
// restart serves the same certificate from state_path without ordering.
func TestACMEPebble(t *testing.T) {
	dir := t.TempDir()
	lb, plain := freePort(t), freePort(t)
	pb := pebbletest.Start(t, dir, port(plain), port(lb))
	conf := fmt.Sprintf(`
http {
    acme_issuer pebble {
        uri %s;
        contact admin@acme.test;
        state_path acme-state;
        accept_terms_of_service;
        ssl_trusted_certificate %s;
    }
    acme_shared_zone zone=ngx_acme_shared:1M;
    server {
        listen %s ssl;
        server_name acme.test;
        acme_certificate pebble;
        ssl_certificate $acme_certificate;
        ssl_certificate_key $acme_certificate_key;
        return 200 "acme";
    }
}`, pb.Directory, pb.APICA, lb)
	p := start(t, dir, conf)
	roots := pb.Roots(t)
	cfg := &tls.Config{ServerName: "acme.test", RootCAs: roots}
	// Issuance runs in the background; handshakes fail until it is done.
	deadline := time.Now().Add(60 * time.Second)
	var serial string
	for i := 0; serial == "" && i < 6000; i++ {
		if time.Now().After(deadline) {
			t.Fatalf("no ACME certificate in time:\n%s", p.stderrString())
		}
		cs, err := handshake(lb, cfg)
		if err == nil {
			serial = cs.PeerCertificates[0].SerialNumber.String()
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code, body := get(t, httpsClient(cfg), "https://"+lb+"/"); code != 200 || body != "acme" {
		t.Errorf("over the ACME certificate: %d %q", code, body)
	}
	for _, f := range []string{"account.key", "acme.test.crt", "acme.test.key"} {
		if st, err := os.Stat(filepath.Join(dir, "acme-state", f)); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("state file %s: %v %v, want mode 0600", f, err, st)
		}
	}
	// A restart serves the saved certificate at once.
	p.signal(t, syscall.SIGTERM)
	p.wait(t)
	os.Remove(filepath.Join(dir, "logs", "bunsan.pid"))
	start(t, dir, conf)
	cs, err := handshake(lb, cfg)
	if err != nil {
		t.Fatalf("after restart: %v", err)
	}
	if got := cs.PeerCertificates[0].SerialNumber.String(); got != serial {
		t.Errorf("after restart: serial %s, want the saved %s (no new order)", got, serial)
	}
}
