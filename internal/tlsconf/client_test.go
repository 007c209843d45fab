package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"bunsan/internal/config"
)

// tlsBackend is a TLS server on loopback that records the SNI of each
// handshake and answers "ok".
type tlsBackend struct {
	addr string
	mu   sync.Mutex
	snis []string
	cn   []string // client certificate CNs seen
}

func startTLSBackend(t *testing.T, cert tls.Certificate, clientCAs *x509.CertPool, maxVersion uint16) *tlsBackend {
	t.Helper()
	b := &tlsBackend{}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MaxVersion: maxVersion}
	if clientCAs != nil {
		cfg.ClientCAs, cfg.ClientAuth = clientCAs, tls.RequireAndVerifyClientCert
	}
	cfg.GetConfigForClient = func(h *tls.ClientHelloInfo) (*tls.Config, error) {
		b.mu.Lock()
		b.snis = append(b.snis, h.ServerName)
		b.mu.Unlock()
		return nil, nil
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	b.addr = ln.Addr().String()
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				tc := c.(*tls.Conn)
				if tc.Handshake() != nil {
					return
				}
				if pc := tc.ConnectionState().PeerCertificates; len(pc) > 0 {
					b.mu.Lock()
					b.cn = append(b.cn, pc[0].Subject.CommonName)
					b.mu.Unlock()
				}
				io.WriteString(tc, "ok")
			}()
		}
	}()
	return b
}

// dial connects with cfg, reads the answer and reports resumption.
func dial(addr string, cfg *tls.Config) (bool, error) {
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", addr, cfg)
	if err != nil {
		return false, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	b, err := io.ReadAll(c)
	if err != nil {
		return false, err
	}
	if string(b) != "ok" {
		return false, io.ErrUnexpectedEOF
	}
	return c.ConnectionState().DidResume, nil
}

func TestClientConfig(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, _ := selfSigned(t, dir, "backend.test")
	otherCA, _, _ := selfSigned(t, dir, "other.test")
	cliCert, cliKey, cliX509 := selfSigned(t, dir, "client.test")
	pair, _ := LoadPair(certFile, keyFile, nil)
	clientCAs := x509.NewCertPool()
	clientCAs.AddCert(cliX509)

	plain := startTLSBackend(t, pair, nil, 0)
	mtls := startTLSBackend(t, pair, clientCAs, 0)
	old := startTLSBackend(t, pair, nil, tls.VersionTLS12)

	base := func(mod func(*config.ProxyTLS)) config.ProxyTLS {
		p := config.ProxyTLS{VerifyDepth: 1, Protocols: config.DefaultProtocols, SessionReuse: true}
		mod(&p)
		return p
	}
	trusted := config.File{Path: certFile}
	tests := []struct {
		name    string
		p       config.ProxyTLS
		backend *tlsBackend
		host    string
		err     string
		sni     string
	}{
		{name: "verify off accepts any", p: base(func(p *config.ProxyTLS) {}), backend: plain, host: "whatever"},
		{name: "verify with the right CA", p: base(func(p *config.ProxyTLS) { p.Verify, p.Trusted = true, trusted }), backend: plain, host: "backend.test"},
		{name: "verify with a wrong CA", p: base(func(p *config.ProxyTLS) { p.Verify, p.Trusted = true, config.File{Path: otherCA} }),
			backend: plain, host: "backend.test", err: "verify error"},
		{name: "verify a wrong name", p: base(func(p *config.ProxyTLS) { p.Verify, p.Trusted = true, trusted }), backend: plain, host: "other.test", err: "verify error"},
		{name: "SNI off sends none", p: base(func(p *config.ProxyTLS) {}), backend: plain, host: "backend.test:443", sni: ""},
		{name: "SNI on sends the name", p: base(func(p *config.ProxyTLS) { p.ServerName = true }), backend: plain, host: "backend.test:443", sni: "backend.test"},
		{name: "client certificate", p: base(func(p *config.ProxyTLS) { p.Certificate, p.Key = config.File{Path: cliCert}, config.File{Path: cliKey} }),
			backend: mtls, host: "backend.test"},
		{name: "no client certificate", p: base(func(p *config.ProxyTLS) {}), backend: mtls, host: "backend.test", err: "certificate"},
		{name: "TLSv1.3 only to a 1.2 backend", p: base(func(p *config.ProxyTLS) { p.Protocols = []string{"TLSv1.3"} }), backend: old, host: "backend.test", err: "version"},
	}
	for _, tt := range tests {
		cfg, err := ClientConfig(tt.p, tt.host)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		before := len(tt.backend.snis)
		_, err = dial(tt.backend.addr, cfg)
		if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("%s: %v, want error %q", tt.name, err, tt.err)
			continue
		}
		tt.backend.mu.Lock()
		if tt.err == "" && tt.backend.snis[before] != tt.sni {
			t.Errorf("%s: backend saw SNI %q, want %q", tt.name, tt.backend.snis[before], tt.sni)
		}
		tt.backend.mu.Unlock()
	}
}

func TestClientConfigSessionReuse(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, _ := selfSigned(t, dir, "backend.test")
	pair, _ := LoadPair(certFile, keyFile, nil)
	b := startTLSBackend(t, pair, nil, 0)
	for _, reuse := range []bool{true, false} {
		cfg, err := ClientConfig(config.ProxyTLS{Verify: true, Trusted: config.File{Path: certFile}, VerifyDepth: 1,
			Protocols: config.DefaultProtocols, SessionReuse: reuse}, "backend.test")
		if err != nil {
			t.Fatal(err)
		}
		var got []bool
		for i := 0; i < 2; i++ {
			r, err := dial(b.addr, cfg)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, r)
		}
		if got[0] || got[1] != reuse {
			t.Errorf("session reuse %v: resumed %v", reuse, got)
		}
	}
}
