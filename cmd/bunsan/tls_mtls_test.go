package main

import (
	"crypto/tls"
	"fmt"
	"io"
	"testing"
)

// TestTLSClientCertificates checks ssl_verify_client per server on one
// address: a certificate from the server's CA is accepted, one from
// another server's CA or an unknown CA is refused, a chain longer than
// ssl_verify_depth is refused, optional_no_ca takes anything, and a
// client without a certificate completes the handshake (nginx answers
// it at HTTP level).
func TestTLSClientCertificates(t *testing.T) {
	dir := t.TempDir()
	srvCA := newCA(t, dir, "servers")
	caA, caB, stranger := newCA(t, dir, "clients-a"), newCA(t, dir, "clients-b"), newCA(t, dir, "stranger")
	inter := caA.intermediate(t, "clients-a-inter1").intermediate(t, "clients-a-inter2")
	sc, sk := srvCA.issue(t, leaf{base: "srv", names: []string{"a.test", "b.test", "deep.test", "noca.test", "crl.test"}})
	fromA, fromAKey := caA.issue(t, leaf{base: "cli-a", client: true, names: []string{"alice"}})
	fromB, fromBKey := caB.issue(t, leaf{base: "cli-b", client: true, names: []string{"bob"}})
	fromX, fromXKey := stranger.issue(t, leaf{base: "cli-x", client: true, names: []string{"mallory"}})
	// carol's chain: leaf, two intermediates, then caA.
	deep, deepKey := inter.issue(t, leaf{base: "cli-deep", client: true, names: []string{"carol"}})
	revoked, revokedKey := caA.issue(t, leaf{base: "cli-revoked", client: true, names: []string{"dave"}})
	crl := caA.crl(t, "clients-a.crl", revoked)
	lb, noCA := freePort(t), freePort(t)
	start(t, dir, fmt.Sprintf(`
http {
    ssl_certificate %[2]s;
    ssl_certificate_key %[3]s;
    server {
        listen %[1]s ssl; server_name a.test;
        ssl_certificate %[2]s; ssl_certificate_key %[3]s;
        ssl_verify_client on; ssl_client_certificate %[4]s;
        return 200 "a";
    }
    server {
        listen %[1]s ssl; server_name b.test;
        ssl_certificate %[2]s; ssl_certificate_key %[3]s;
        ssl_verify_client optional; ssl_client_certificate %[5]s;
        return 200 "b";
    }
    server {
        listen %[1]s ssl; server_name deep.test;
        ssl_certificate %[2]s; ssl_certificate_key %[3]s;
        ssl_verify_client on; ssl_client_certificate %[4]s; ssl_verify_depth 2;
        return 200 "deep";
    }
    server {
        listen %[1]s ssl; server_name crl.test;
        ssl_certificate %[2]s; ssl_certificate_key %[3]s;
        ssl_verify_client on; ssl_client_certificate %[4]s; ssl_crl %[7]s;
        return 200 "crl";
    }
    server {
        listen %[6]s ssl; server_name noca.test;
        ssl_certificate %[2]s; ssl_certificate_key %[3]s;
        ssl_verify_client optional_no_ca;
        return 200 "noca";
    }
}`, lb, sc, sk, caA.file, caB.file, noCA, crl))
	type cert struct{ c, k string }
	tests := []struct {
		name string
		sni  string
		cert *cert
		ok   bool
		addr string // lb when empty
	}{
		{"own CA", "a.test", &cert{fromA, fromAKey}, true, ""},
		{"other server's CA", "a.test", &cert{fromB, fromBKey}, false, ""},
		{"unknown CA", "a.test", &cert{fromX, fromXKey}, false, ""},
		{"no certificate, on", "a.test", nil, true, ""},
		{"optional, own CA", "b.test", &cert{fromB, fromBKey}, true, ""},
		{"optional, no certificate", "b.test", nil, true, ""},
		{"two intermediates, depth 1", "a.test", &cert{deep, deepKey}, false, ""},
		{"two intermediates, depth 2", "deep.test", &cert{deep, deepKey}, true, ""},
		{"optional_no_ca, unknown CA", "noca.test", &cert{fromX, fromXKey}, true, noCA},
		{"ssl_crl, not revoked", "crl.test", &cert{fromA, fromAKey}, true, ""},
		{"ssl_crl, revoked", "crl.test", &cert{revoked, revokedKey}, false, ""},
	}
	for _, tt := range tests {
		cfg := &tls.Config{ServerName: tt.sni, RootCAs: srvCA.pool()}
		if tt.cert != nil {
			// Sent whatever CAs the server lists, as a careless or hostile
			// client would (Go's default sends only a matching one).
			c := clientCert(t, tt.cert.c, tt.cert.k)
			cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &c, nil }
		}
		// The server's verdict on a TLS 1.3 client certificate arrives
		// after the client's handshake; a request and its answer settle it.
		addr := tt.addr
		if addr == "" {
			addr = lb
		}
		resp, err := httpsClient(cfg).Get("https://" + addr + "/")
		if err == nil {
			io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		if (err == nil) != tt.ok {
			t.Errorf("%s: error %v, want success %v", tt.name, err, tt.ok)
		}
	}
}
