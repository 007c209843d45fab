package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"strings"
	"testing"

	"bunsan/internal/config"
)

func TestAddressConfig(t *testing.T) {
	dir := t.TempDir()
	certA, keyA, _ := selfSigned(t, dir, "a.test")
	certB, keyB, _ := selfSigned(t, dir, "b.test")
	ssl := func(cert, key string, protocols ...string) config.SSL {
		if protocols == nil {
			protocols = config.DefaultProtocols
		}
		return config.SSL{Certificates: []config.CertPair{{Cert: cert, Key: key, Pos: config.Pos{File: "x.conf", Line: 7}}},
			Protocols: protocols, SessionTickets: true, VerifyClient: "off", VerifyDepth: 1}
	}
	sites := []Site{
		{Names: []string{"a.test"}, SSL: ssl(certA, keyA), Pos: config.Pos{File: "x.conf", Line: 1}},
		{Names: []string{"b.test"}, SSL: ssl(certB, keyB, "TLSv1.3"), Pos: config.Pos{File: "x.conf", Line: 2}},
	}
	cfg, warnings, err := AddressConfig(sites, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "x.conf:2: ssl_protocols differs from the default server") {
		t.Errorf("warnings: %q", warnings)
	}
	for _, tt := range []struct{ sni, want string }{{"b.test", "b.test"}, {"a.test", "a.test"}, {"c.test", "a.test"}} {
		c, err := cfg.GetCertificate(&tls.ClientHelloInfo{ServerName: tt.sni, SignatureSchemes: []tls.SignatureScheme{tls.ECDSAWithP256AndSHA256},
			SupportedVersions: []uint16{tls.VersionTLS13}, SupportedCurves: []tls.CurveID{tls.CurveP256}})
		if err != nil {
			t.Fatal(err)
		}
		leaf, _ := x509.ParseCertificate(c.Certificate[0])
		if leaf.Subject.CommonName != tt.want {
			t.Errorf("SNI %q: %s, want %s", tt.sni, leaf.Subject.CommonName, tt.want)
		}
	}
	// A key that does not match its certificate fails with the place.
	bad := []Site{{SSL: ssl(certA, keyB)}}
	if _, _, err := AddressConfig(bad, false); err == nil || !strings.HasPrefix(err.Error(), "x.conf:7: cannot load certificate") {
		t.Errorf("mismatched key: %v", err)
	}
	// Verifying clients without a CA is an error, as in nginx.
	noCA := ssl(certA, keyA)
	noCA.VerifyClient = "on"
	if _, _, err := AddressConfig([]Site{{SSL: noCA, Pos: config.Pos{File: "x.conf", Line: 3}}}, false); err == nil || !strings.Contains(err.Error(), "no ssl_client_certificate") {
		t.Errorf("verify without CA: %v", err)
	}
}

func TestClientCertMissing(t *testing.T) {
	withCert := &tls.ConnectionState{PeerCertificates: []*x509.Certificate{{}}}
	tests := []struct {
		verify string
		cs     *tls.ConnectionState
		want   bool
	}{
		{"on", &tls.ConnectionState{}, true},
		{"on", withCert, false},
		{"optional", &tls.ConnectionState{}, false},
		{"off", &tls.ConnectionState{}, false},
		{"on", nil, false}, // plain HTTP
	}
	for _, tt := range tests {
		if got := ClientCertMissing(config.SSL{VerifyClient: tt.verify}, tt.cs); got != tt.want {
			t.Errorf("%s %v: %v", tt.verify, tt.cs, got)
		}
	}
}
