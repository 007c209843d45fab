package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// loadSSLText loads a configuration from text in a fresh directory holding
// the files named: a.pem and a.key are a real certificate and key, others
// hold a placeholder.
func loadSSLText(t *testing.T, text string, files ...string) (*Model, error) {
	t.Helper()
	dir := t.TempDir()
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	writePair(t, dir, 0o600)
	file := filepath.Join(dir, "bunsan.conf")
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	m, _, err := Load(Options{File: file, Prefix: dir})
	return m, err
}

func TestSSLInheritance(t *testing.T) {
	m, err := loadSSLText(t, `
http {
    ssl_protocols TLSv1.3;
    ssl_session_timeout 1h;
    ssl_ciphers ECDHE-RSA-AES128-GCM-SHA256;
    proxy_ssl_verify on;
    proxy_ssl_name backend.test;
    server {
        listen 443 ssl;
        ssl_certificate a.pem; ssl_certificate_key a.key;
        ssl_session_tickets off;
        http2 on;
        proxy_ssl_server_name on;
        location / {
            proxy_ssl_name loc.test;
            location /in { proxy_ssl_protocols TLSv1.2; }
        }
    }
    server {
        listen 8443 ssl;
        ssl_certificate a.pem; ssl_certificate_key a.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_verify_client optional;
        ssl_client_certificate ca.pem;
        ssl_verify_depth 2;
    }
}`, "ca.pem")
	if err != nil {
		t.Fatal(err)
	}
	h := m.HTTP
	a, b := h.ServerSSL(h.Servers[0]), h.ServerSSL(h.Servers[1])
	if !slices.Equal(a.Protocols, []string{"TLSv1.3"}) || a.SessionTimeout != time.Hour || a.SessionTickets || !a.HTTP2 || len(a.Ciphers) != 1 {
		t.Errorf("first server: %+v", a)
	}
	if !slices.Equal(b.Protocols, DefaultProtocols) || !b.SessionTickets || b.VerifyClient != "optional" || b.VerifyDepth != 2 ||
		!strings.HasSuffix(b.ClientCertificate.Path, "/ca.pem") || b.SessionCache != "none" {
		t.Errorf("second server: %+v", b)
	}
	if h.Servers[0].SSL.Protocols != nil {
		t.Error("ServerSSL must not change the model")
	}
	srv := h.Servers[0]
	outer := srv.Locations[0]
	inner := outer.Locations[0]
	tests := []struct {
		name string
		got  ProxyTLS
		sni  bool
		host string
		prot []string
	}{
		{"server", h.ProxyTLS(srv, nil), true, "backend.test", DefaultProtocols},
		{"location", h.ProxyTLS(srv, outer), true, "loc.test", DefaultProtocols},
		{"nested", h.ProxyTLS(srv, inner), true, "loc.test", []string{"TLSv1.2"}},
		{"other server", h.ProxyTLS(h.Servers[1], nil), false, "backend.test", DefaultProtocols},
	}
	for _, tt := range tests {
		if !tt.got.Verify || tt.got.ServerName != tt.sni || tt.got.Name != tt.host || !slices.Equal(tt.got.Protocols, tt.prot) || !tt.got.SessionReuse {
			t.Errorf("%s: %+v", tt.name, tt.got)
		}
	}
}

func TestSSLDirectiveErrors(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"bad cipher", "http { ssl_ciphers HIGH:NOPE; }", `1:20: unknown cipher "NOPE"`},
		{"no usable cipher", "http { ssl_ciphers DHE-RSA-AES128-GCM-SHA256; }", `selects no TLS 1.2 cipher suite that Go implements (DHE-RSA-AES128-GCM-SHA256 not supported)`},
		{"bad protocol", "http { ssl_protocols TLSv2; }", `1:22: invalid protocol "TLSv2"`},
		{"only old protocols", "http { ssl_protocols TLSv1 TLSv1.1; }", `no usable protocol`},
		{"bad curve", "http { ssl_ecdh_curve secp256k1; }", `unsupported curve "secp256k1"`},
		{"bad cache", "http { ssl_session_cache shared:SSL; }", `write shared:NAME:SIZE`},
		{"bad verify", "http { ssl_verify_client maybe; }", `use on, off, optional or optional_no_ca`},
		{"missing CA file", "http { ssl_client_certificate nope.pem; }", `cannot load client certificate`},
		{"early data", "http { ssl_early_data on; }", `early data (0-RTT) is not supported`},
		{"ssl on", "http { server { ssl on; } }", `"ssl" directive is obsolete`},
		{"proxy_ssl in location", "http { server { location / { proxy_ssl_protocols SSLv3; } } }", `no usable protocol`},
		{"stapling in location", "http { server { location / { ssl_stapling on; } } }", `not allowed`},
	}
	for _, tt := range tests {
		_, err := loadSSLText(t, tt.text)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
}

// writePair writes a self-signed certificate a.pem and its key a.key
// (with mode keyMode) into dir, valid from an hour ago for two hours.
func writePair(t *testing.T, dir string, keyMode os.FileMode) {
	t.Helper()
	writePairValid(t, dir, keyMode, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
}

func writePairValid(t *testing.T, dir string, keyMode os.FileMode, notBefore, notAfter time.Time) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "a.test"},
		NotBefore: notBefore, NotAfter: notAfter}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalPKCS8PrivateKey(k)
	os.WriteFile(filepath.Join(dir, "a.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(filepath.Join(dir, "a.key"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), keyMode)
	os.Chmod(filepath.Join(dir, "a.key"), keyMode)
}

func TestSSLWarnings(t *testing.T) {
	dir := t.TempDir()
	writePair(t, dir, 0o644)
	file := filepath.Join(dir, "bunsan.conf")
	os.WriteFile(file, []byte(`http {
    ssl_ciphers ECDHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES128-GCM-SHA256;
    server { listen 443 ssl; ssl_certificate a.pem; ssl_certificate_key a.key; }
}`), 0o644)
	m, _, err := Load(Options{File: file, Prefix: dir})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range m.Warnings {
		got = append(got, w.Msg)
	}
	all := strings.Join(got, "\n")
	for _, want := range []string{"DHE-RSA-AES128-GCM-SHA256 not supported", "is readable by every user"} {
		if !strings.Contains(all, want) {
			t.Errorf("warnings %q lack %q", got, want)
		}
	}
}

func TestACMEConfig(t *testing.T) {
	m, err := loadSSLText(t, `
http {
    acme_issuer le {
        uri https://acme.example/directory;
        contact admin@example.test;
        state_path acme;
        accept_terms_of_service;
        challenge http-01;
    }
    server {
        listen 443 ssl;
        server_name a.test;
        acme_certificate le a.test www.a.test key=ecdsa:256;
        ssl_certificate $acme_certificate;
        ssl_certificate_key $acme_certificate_key;
    }
}`)
	if err != nil {
		t.Fatal(err)
	}
	iss := m.HTTP.ACMEIssuer("le")
	if iss == nil || iss.URI != "https://acme.example/directory" || !iss.AcceptTOS || iss.Challenge != "http-01" ||
		len(iss.Contacts) != 1 || iss.Contacts[0] != "mailto:admin@example.test" || !strings.HasSuffix(iss.StatePath, "/acme") {
		t.Fatalf("issuer: %+v", iss)
	}
	ssl := m.HTTP.ServerSSL(m.HTTP.Servers[0])
	if ssl.ACME == nil || ssl.ACME.Issuer != "le" || strings.Join(ssl.ACME.Names, ",") != "a.test,www.a.test" {
		t.Errorf("acme_certificate: %+v", ssl.ACME)
	}
	if len(ssl.Certificates) != 1 || ssl.Certificates[0].Cert != ACMECertificateVar || ssl.Certificates[0].Key != ACMEKeyVar {
		t.Errorf("certificates: %+v", ssl.Certificates)
	}
	for _, tt := range []struct{ text, want string }{
		{"http { acme_issuer x { contact a@b; } }", `acme_issuer "x" has no uri`},
		{"http { acme_issuer x { uri https://a/; challenge dns-01; } }", `unsupported challenge "dns-01"`},
		{"http { acme_issuer x { uri https://a/; bogus 1; } }", `unknown directive "bogus" in acme_issuer`},
		{"http { server { acme_certificate x *.a.test; } }", `invalid identifier "*.a.test"`},
	} {
		if _, err := loadSSLText(t, tt.text); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: %v, want %q", tt.text, err, tt.want)
		}
	}
}

// TestSSLPairChecked makes bunsan -t load certificates, as nginx -t does.
func TestSSLPairChecked(t *testing.T) {
	dir := t.TempDir()
	writePair(t, dir, 0o600)
	other := t.TempDir()
	writePair(t, other, 0o600)
	os.WriteFile(filepath.Join(dir, "garbage.pem"), []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), 0o644)
	tests := []struct{ name, cert, key, want string }{
		{"good", "a.pem", "a.key", ""},
		{"garbage certificate", "garbage.pem", "a.key", "bunsan.conf:4:5: cannot load certificate"},
		{"key of another certificate", "a.pem", filepath.Join(other, "a.key"), "private key does not match public key"},
	}
	for _, tt := range tests {
		file := filepath.Join(dir, "bunsan.conf")
		os.WriteFile(file, []byte("http {\n  server {\n    listen 443 ssl;\n    ssl_certificate "+tt.cert+";\n    ssl_certificate_key "+tt.key+";\n  }\n}\n"), 0o644)
		_, _, err := Load(Options{File: file, Prefix: dir})
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestSSLTicketKeySize(t *testing.T) {
	_, err := loadSSLText(t, "http { ssl_session_ticket_key tk; }", "tk")
	if err == nil || !strings.Contains(err.Error(), "must be 48 or 80 bytes") {
		t.Errorf("a 1-byte ticket key: %v", err)
	}
}

func TestSSLExpiredWarning(t *testing.T) {
	dir := t.TempDir()
	writePairValid(t, dir, 0o600, time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC))
	file := filepath.Join(dir, "bunsan.conf")
	os.WriteFile(file, []byte("http { server { listen 443 ssl; ssl_certificate a.pem; ssl_certificate_key a.key; } }"), 0o644)
	m, _, err := Load(Options{File: file, Prefix: dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Warnings) != 1 || !strings.Contains(m.Warnings[0].Msg, "expired on 2021-01-01") {
		t.Errorf("warnings: %+v", m.Warnings)
	}
}
