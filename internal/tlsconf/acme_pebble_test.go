package tlsconf

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"bunsan/internal/config"
	"bunsan/internal/tlsconf/pebbletest"
)

// TestACMEObtainAndRenew orders a certificate from Pebble with each
// challenge, answered by a plain-HTTP server mounting HTTPChallenges or
// a TLS server asking alpnCertificate, then orders again (a renewal):
// the new certificate replaces the old in the slot and on disk.
func TestACMEObtainAndRenew(t *testing.T) {
	dir := t.TempDir()
	httpPort, tlsPort := pebbletest.FreePort(t), pebbletest.FreePort(t)
	pb := pebbletest.Start(t, dir, httpPort, tlsPort)
	m := &ACMEManager{Log: slog.New(slog.DiscardHandler), Now: time.Now}

	plain := &http.Server{Handler: m.HTTPChallenges(http.NotFoundHandler())}
	pln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(httpPort))
	if err != nil {
		t.Fatal(err)
	}
	go plain.Serve(pln)
	t.Cleanup(func() { plain.Close() })
	tln, err := tls.Listen("tcp", "127.0.0.1:"+strconv.Itoa(tlsPort), &tls.Config{
		NextProtos: []string{"acme-tls/1"},
		GetCertificate: func(h *tls.ClientHelloInfo) (*tls.Certificate, error) {
			return m.alpnCertificate(h), nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tln.Close() })
	go func() {
		for {
			c, err := tln.Accept()
			if err != nil {
				return
			}
			go func() { c.(*tls.Conn).Handshake(); c.Close() }()
		}
	}()

	for _, challenge := range []string{"http-01", "tls-alpn-01"} {
		iss := config.ACMEIssuer{Name: challenge, URI: pb.Directory, StatePath: filepath.Join(dir, challenge), AcceptTOS: true,
			Challenge: challenge, Verify: true, Trusted: config.File{Path: pb.APICA}, Contacts: []string{"mailto:a@acme.test"}}
		c := &acmeCert{iss: iss, names: []string{"renew.test", "www.renew.test"}}
		var serials []string
		for i := 0; i < 2; i++ { // the second order is a renewal
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			err := m.Obtain(ctx, c)
			cancel()
			if err != nil {
				t.Fatalf("%s order %d: %v", challenge, i, err)
			}
			serials = append(serials, c.slot.Load().Leaf.SerialNumber.String())
			saved, err := c.load()
			if err != nil || saved.Leaf.SerialNumber.String() != serials[i] {
				t.Fatalf("%s order %d: state on disk %v, %v", challenge, i, saved, err)
			}
		}
		if serials[0] == serials[1] {
			t.Errorf("%s: renewal kept serial %s", challenge, serials[0])
		}
		if _, err := os.Stat(filepath.Join(dir, challenge, "account.key")); err != nil {
			t.Errorf("%s: account key not kept: %v", challenge, err)
		}
	}
}
