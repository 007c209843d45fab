package main

import (
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestTLSSNIAcrossServers runs three server blocks on one TLS port,
// named exactly, by wildcard and by regular expression, and checks that
// each name gets its own certificate and an unknown name the default
// server's.
func TestTLSSNIAcrossServers(t *testing.T) {
	dir := t.TempDir()
	ca := newCA(t, dir, "sni")
	exact, exactKey := ca.issue(t, leaf{base: "exact", names: []string{"exact.test"}})
	wild, wildKey := ca.issue(t, leaf{base: "wild", names: []string{"*.wild.test"}})
	re, reKey := ca.issue(t, leaf{base: "re", names: []string{"re1.test", "re2.test"}})
	lb := freePort(t)
	start(t, dir, fmt.Sprintf(`
http {
    server {
        listen %[1]s ssl;
        server_name exact.test;
        ssl_certificate %[2]s; ssl_certificate_key %[3]s;
        return 200 "exact";
    }
    server {
        listen %[1]s ssl default_server;
        server_name *.wild.test;
        ssl_certificate %[4]s; ssl_certificate_key %[5]s;
        return 200 "wild";
    }
    server {
        listen %[1]s ssl;
        server_name ~^re\d+\.test$;
        ssl_certificate %[6]s; ssl_certificate_key %[7]s;
        return 200 "re";
    }
}`, lb, exact, exactKey, wild, wildKey, re, reKey))
	tests := []struct {
		sni, wantCN string
	}{
		{"exact.test", "exact.test"},
		{"a.wild.test", "*.wild.test"},
		{"re2.test", "re1.test"},
		{"unknown.test", "*.wild.test"}, // the default_server's
		{"", "*.wild.test"},
	}
	for _, tt := range tests {
		cs, err := handshake(lb, &tls.Config{ServerName: tt.sni, RootCAs: ca.pool(), InsecureSkipVerify: tt.sni == "" || tt.sni == "unknown.test"})
		if err != nil {
			t.Errorf("SNI %q: %v", tt.sni, err)
			continue
		}
		if got := cs.PeerCertificates[0].Subject.CommonName; got != tt.wantCN {
			t.Errorf("SNI %q: certificate %q, want %q", tt.sni, got, tt.wantCN)
		}
		if len(cs.PeerCertificates) != 2 {
			t.Errorf("SNI %q: %d certificates sent, want the leaf and its CA (the chain in the file)", tt.sni, len(cs.PeerCertificates))
		}
	}
	// The verified name also reaches the right virtual server.
	client := httpsClient(&tls.Config{RootCAs: ca.pool(), ServerName: "exact.test"})
	req, _ := http.NewRequest("GET", "https://"+lb+"/", nil)
	req.Host = "exact.test"
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "exact" {
		t.Errorf("https://exact.test/ answered %q", body)
	}
}

// TestTLSRSAAndECDSA serves an RSA and an ECDSA certificate from one
// server and checks each client gets the one it can use.
func TestTLSRSAAndECDSA(t *testing.T) {
	dir := t.TempDir()
	ca := newCA(t, dir, "dual")
	rsaCert, rsaKey := ca.issue(t, leaf{base: "rsa", rsa: true, names: []string{"dual.test"}})
	ecCert, ecKey := ca.issue(t, leaf{base: "ec", names: []string{"dual.test"}})
	lb := freePort(t)
	start(t, dir, fmt.Sprintf(`
http {
    server {
        listen %s ssl;
        server_name dual.test;
        ssl_certificate %s; ssl_certificate_key %s;
        ssl_certificate %s; ssl_certificate_key %s;
        return 200 "ok";
    }
}`, lb, rsaCert, rsaKey, ecCert, ecKey))
	tests := []struct {
		name    string
		suites  []uint16
		wantAlg string
	}{
		{"ECDSA-only client", []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}, "ECDSA"},
		{"RSA-only client", []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}, "RSA"},
	}
	for _, tt := range tests {
		cs, err := handshake(lb, &tls.Config{ServerName: "dual.test", RootCAs: ca.pool(), MaxVersion: tls.VersionTLS12, CipherSuites: tt.suites})
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got := cs.PeerCertificates[0].PublicKeyAlgorithm.String(); got != tt.wantAlg {
			t.Errorf("%s: got a %s certificate, want %s", tt.name, got, tt.wantAlg)
		}
	}
}

// TestTLSProtocolsAndCiphers checks that ssl_protocols and ssl_ciphers
// are enforced: by default a TLS 1.1 client is refused; with TLS 1.3 only,
// a TLS 1.2 client is; with one cipher, a client without it is.
func TestTLSProtocolsAndCiphers(t *testing.T) {
	dir := t.TempDir()
	ca := newCA(t, dir, "proto")
	cert, key := ca.issue(t, leaf{base: "p", names: []string{"p.test"}})
	def, only13, oneCipher := freePort(t), freePort(t), freePort(t)
	start(t, dir, fmt.Sprintf(`
http {
    server { listen %[3]s ssl; ssl_certificate %[1]s; ssl_certificate_key %[2]s; return 200 "default"; }
    server { listen %[4]s ssl; ssl_certificate %[1]s; ssl_certificate_key %[2]s; ssl_protocols TLSv1.3; return 200 "tls13"; }
    server {
        listen %[5]s ssl;
        ssl_certificate %[1]s; ssl_certificate_key %[2]s;
        ssl_protocols TLSv1.2;
        ssl_ciphers ECDHE-ECDSA-AES256-GCM-SHA384:DHE-RSA-AES256-GCM-SHA384;
        return 200 "cipher";
    }
}`, cert, key, def, only13, oneCipher))
	base := func(min, max uint16, suites ...uint16) *tls.Config {
		return &tls.Config{ServerName: "p.test", RootCAs: ca.pool(), MinVersion: min, MaxVersion: max, CipherSuites: suites}
	}
	tests := []struct {
		name    string
		addr    string
		cfg     *tls.Config
		ok      bool
		version uint16
		suite   uint16
	}{
		{"default refuses TLS 1.1", def, base(tls.VersionTLS11, tls.VersionTLS11), false, 0, 0},
		{"default accepts TLS 1.2", def, base(tls.VersionTLS12, tls.VersionTLS12), true, tls.VersionTLS12, 0},
		{"default prefers TLS 1.3", def, base(tls.VersionTLS12, tls.VersionTLS13), true, tls.VersionTLS13, 0},
		{"TLSv1.3 only refuses 1.2", only13, base(tls.VersionTLS12, tls.VersionTLS12), false, 0, 0},
		{"TLSv1.3 only accepts 1.3", only13, base(tls.VersionTLS13, tls.VersionTLS13), true, tls.VersionTLS13, 0},
		{"one cipher refuses others", oneCipher, base(tls.VersionTLS12, tls.VersionTLS12, tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256), false, 0, 0},
		{"one cipher accepts it", oneCipher, base(tls.VersionTLS12, tls.VersionTLS12,
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384), true, tls.VersionTLS12, tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384},
	}
	for _, tt := range tests {
		cs, err := handshake(tt.addr, tt.cfg)
		if (err == nil) != tt.ok {
			t.Errorf("%s: handshake error %v, want success %v", tt.name, err, tt.ok)
			continue
		}
		if tt.ok && cs.Version != tt.version {
			t.Errorf("%s: version %x, want %x", tt.name, cs.Version, tt.version)
		}
		if tt.ok && tt.suite != 0 && cs.CipherSuite != tt.suite {
			t.Errorf("%s: suite %s, want %s", tt.name, tls.CipherSuiteName(cs.CipherSuite), tls.CipherSuiteName(tt.suite))
		}
	}
}

// TestTLSReloadCertificate re-reads certificates on reload, and keeps the
// old one serving when the new file is broken, saying where.
func TestTLSReloadCertificate(t *testing.T) {
	dir := t.TempDir()
	ca := newCA(t, dir, "reload")
	first, key := ca.issue(t, leaf{base: "site", names: []string{"site.test", "first.test"}})
	lb := freePort(t)
	conf := fmt.Sprintf("http {\n    server {\n        listen %s ssl;\n        ssl_certificate %s;\n        ssl_certificate_key %s;\n        return 200 ok;\n    }\n}\n", lb, first, key)
	p := start(t, dir, conf)
	served := func() string {
		t.Helper()
		cs, err := handshake(lb, &tls.Config{ServerName: "site.test", RootCAs: ca.pool()})
		if err != nil {
			t.Fatalf("handshake: %v", err)
		}
		return strings.Join(cs.PeerCertificates[0].DNSNames, ",")
	}
	if got := served(); got != "site.test,first.test" {
		t.Fatalf("before reload: %s", got)
	}
	// A new certificate under the same file names is read on reload.
	ca.issue(t, leaf{base: "site", names: []string{"site.test", "second.test"}})
	p.signal(t, syscall.SIGHUP)
	// The reload is done when the new certificate is served; until then
	// the old one must be.
	deadline := time.Now().Add(20 * time.Second)
	for got := served(); got != "site.test,second.test"; got = served() {
		if got != "site.test,first.test" || time.Now().After(deadline) {
			t.Fatalf("during reload: %s, want first.test, then second.test", got)
		}
	}
	// A broken certificate fails the reload with its place, and the
	// certificate already loaded keeps serving.
	writeFile(t, first, []byte("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n"), 0o644)
	p.signal(t, syscall.SIGHUP)
	waitFor(t, p, "reload failed")
	if log := p.stderrString(); !strings.Contains(log, filepath.Join(dir, "bunsan.conf")+":4") {
		t.Errorf("the reload error does not name bunsan.conf:4:\n%s", log)
	}
	if got := served(); got != "site.test,second.test" {
		t.Fatalf("after a broken reload: %s, want the previous certificate", got)
	}
}

// TestTLSEncryptedKeyAndWarnings loads a key encrypted with a passphrase
// from ssl_password_file, and warns about a key every user can read.
func TestTLSEncryptedKeyAndWarnings(t *testing.T) {
	dir := t.TempDir()
	ca := newCA(t, dir, "enc")
	cert, key := ca.issue(t, leaf{base: "enc", names: []string{"enc.test"}})
	encrypted := filepath.Join(dir, "enc-encrypted.key")
	writeFile(t, encrypted, encryptKeyPEM(t, key, "second"), 0o644)
	writeFile(t, filepath.Join(dir, "passwords"), []byte("first\nsecond\n"), 0o600)
	lb := freePort(t)
	p := start(t, dir, fmt.Sprintf(`
http {
    server {
        listen %s ssl;
        ssl_certificate %s;
        ssl_certificate_key %s;
        ssl_password_file passwords;
        return 200 ok;
    }
}`, lb, cert, encrypted))
	if _, err := handshake(lb, &tls.Config{ServerName: "enc.test", RootCAs: ca.pool()}); err != nil {
		t.Fatal(err)
	}
	out, _ := exec.Command(binary, "-t", "-c", filepath.Join(dir, "bunsan.conf")).CombinedOutput()
	if want := fmt.Sprintf("bunsan.conf:6:29: warning: private key %q is readable by every user", encrypted); !strings.Contains(string(out), want) {
		t.Errorf("-t does not warn %q:\n%s", want, out)
	}
	// Without the password file the error names the fix.
	os.WriteFile(filepath.Join(dir, "bunsan.conf"), []byte(fmt.Sprintf(
		"http { server { listen %s ssl; ssl_certificate %s; ssl_certificate_key %s; } }", lb, cert, encrypted)), 0o644)
	p.signal(t, syscall.SIGHUP)
	waitFor(t, p, "ssl_password_file")
}

// TestTLSSessionResumption resumes sessions by ticket, and not when
// ssl_session_tickets is off.
func TestTLSSessionResumption(t *testing.T) {
	dir := t.TempDir()
	ca := newCA(t, dir, "sess")
	cert, key := ca.issue(t, leaf{base: "s", names: []string{"s.test"}})
	on, off := freePort(t), freePort(t)
	start(t, dir, fmt.Sprintf(`
http {
    ssl_session_cache shared:SSL:10m;
    ssl_session_timeout 1h;
    server { listen %[3]s ssl; ssl_certificate %[1]s; ssl_certificate_key %[2]s; return 200 ok; }
    server { listen %[4]s ssl; ssl_certificate %[1]s; ssl_certificate_key %[2]s; ssl_session_tickets off; return 200 ok; }
}`, cert, key, on, off))
	for _, tt := range []struct {
		addr   string
		resume bool
	}{{on, true}, {off, false}} {
		cfg := &tls.Config{ServerName: "s.test", RootCAs: ca.pool(), ClientSessionCache: tls.NewLRUClientSessionCache(4)}
		// TLS 1.3 tickets arrive after the handshake; an HTTP round trip
		// makes sure the client has read them before the second dial.
		client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg, DisableKeepAlives: true}}
		var resumed []bool
		for i := 0; i < 2; i++ {
			resp, err := client.Get("https://" + tt.addr + "/")
			if err != nil {
				t.Fatal(err)
			}
			io.ReadAll(resp.Body)
			resp.Body.Close()
			resumed = append(resumed, resp.TLS.DidResume)
		}
		if resumed[0] || resumed[1] != tt.resume {
			t.Errorf("%s: resumed %v, want [false %v]", tt.addr, resumed, tt.resume)
		}
	}
}

// TestTLSSessionTicketKey resumes a session across a restart when
// ssl_session_ticket_key names a key file (tickets survive because the
// key does).
func TestTLSSessionTicketKey(t *testing.T) {
	dir := t.TempDir()
	ca := newCA(t, dir, "tk")
	cert, key := ca.issue(t, leaf{base: "tk", names: []string{"tk.test"}})
	writeFile(t, filepath.Join(dir, "ticket.key"), []byte(strings.Repeat("k", 80)), 0o600)
	lb := freePort(t)
	conf := fmt.Sprintf(`http { server { listen %s ssl; ssl_certificate %s; ssl_certificate_key %s; ssl_session_ticket_key ticket.key; return 200 ok; } }`, lb, cert, key)
	cfg := &tls.Config{ServerName: "tk.test", RootCAs: ca.pool(), ClientSessionCache: tls.NewLRUClientSessionCache(4)}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg, DisableKeepAlives: true}}
	fetch := func() bool {
		t.Helper()
		resp, err := client.Get("https://" + lb + "/")
		if err != nil {
			t.Fatal(err)
		}
		io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.TLS.DidResume
	}
	p := start(t, dir, conf)
	if fetch() {
		t.Fatal("the first connection cannot resume")
	}
	p.signal(t, syscall.SIGTERM)
	p.wait(t)
	os.Remove(filepath.Join(dir, "logs", "bunsan.pid"))
	start(t, dir, conf)
	if !fetch() {
		t.Error("after a restart with the same ssl_session_ticket_key the session was not resumed")
	}
}

// TestTLSRejectHandshake refuses names no server claims when the default
// server has ssl_reject_handshake on, and serves the named server.
func TestTLSRejectHandshake(t *testing.T) {
	dir := t.TempDir()
	ca := newCA(t, dir, "rej")
	cert, key := ca.issue(t, leaf{base: "rej", names: []string{"known.test"}})
	lb := freePort(t)
	start(t, dir, fmt.Sprintf(`
http {
    server { listen %[1]s ssl default_server; ssl_certificate %[2]s; ssl_certificate_key %[3]s; ssl_reject_handshake on; }
    server { listen %[1]s ssl; server_name known.test; ssl_certificate %[2]s; ssl_certificate_key %[3]s; return 200 ok; }
}`, lb, cert, key))
	if _, err := handshake(lb, &tls.Config{ServerName: "known.test", RootCAs: ca.pool()}); err != nil {
		t.Errorf("known name: %v", err)
	}
	for _, sni := range []string{"unknown.test", ""} {
		if _, err := handshake(lb, &tls.Config{ServerName: sni, InsecureSkipVerify: true}); err == nil {
			t.Errorf("SNI %q: handshake accepted, want it rejected", sni)
		}
	}
}

// TestTLSRedirectAndHSTS runs the usual pair of servers: plain HTTP
// redirecting to HTTPS, and HTTPS sending HSTS on every answer (always,
// so errors too).
func TestTLSRedirectAndHSTS(t *testing.T) {
	dir := t.TempDir()
	ca := newCA(t, dir, "hsts")
	cert, key := ca.issue(t, leaf{base: "hsts", names: []string{"site.test"}})
	plain, secure := freePort(t), freePort(t)
	start(t, dir, fmt.Sprintf(`
http {
    server {
        listen %s;
        server_name site.test;
        return 301 https://$host$request_uri;
    }
    server {
        listen %s ssl;
        server_name site.test;
        ssl_certificate %s; ssl_certificate_key %s;
        add_header Strict-Transport-Security "max-age=63072000; includeSubDomains" always;
        location / { return 200 "secure $https $ssl_protocol"; }
        location /missing { return 404; }
    }
}`, plain, secure, cert, key))
	noFollow := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest("GET", "http://"+plain+"/a/b?c=d", nil)
	req.Host = "site.test"
	resp, err := noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != 301 || loc != "https://site.test/a/b?c=d" {
		t.Errorf("redirect: %d %q", resp.StatusCode, loc)
	}
	client := httpsClient(&tls.Config{ServerName: "site.test", RootCAs: ca.pool()})
	for _, tt := range []struct {
		path string
		code int
		body string
	}{{"/", 200, "secure on TLSv1.3"}, {"/missing", 404, ""}} {
		req, _ := http.NewRequest("GET", "https://"+secure+tt.path, nil)
		req.Host = "site.test"
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.code || (tt.body != "" && string(body) != tt.body) {
			t.Errorf("%s: %d %q", tt.path, resp.StatusCode, body)
		}
		if h := resp.Header.Get("Strict-Transport-Security"); h != "max-age=63072000; includeSubDomains" {
			t.Errorf("%s: HSTS %q", tt.path, h)
		}
	}
}
