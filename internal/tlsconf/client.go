package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"

	"bunsan/internal/config"
	"bunsan/internal/tlsconf/openssl"
)

// ClientConfig builds the TLS configuration for connections to backends
// (proxy_pass https://...) from the proxy_ssl_* settings in effect, as
// config.HTTP.ProxyTLS returns them.
//
// name is the server name: sent as SNI when proxy_ssl_server_name is on,
// and the name the backend's certificate must carry when proxy_ssl_verify
// is on. Pass proxy_ssl_name's value, evaluated for the request, or the
// host of proxy_pass (the upstream group's name for a group, as nginx's
// $proxy_host) when it is the default "$proxy_host". A port is dropped.
//
// Build one per location (and name) when the snapshot is built and reuse
// it for every request: it holds the session cache that
// proxy_ssl_session_reuse wants, so that backends resume sessions.
func ClientConfig(p config.ProxyTLS, name string) (*tls.Config, error) {
	if h, _, err := net.SplitHostPort(name); err == nil {
		name = h
	}
	lo, hi, ok := openssl.Protocols(p.Protocols)
	if !ok {
		return nil, fmt.Errorf("proxy_ssl_protocols %v enables no protocol bunsan supports (TLSv1.2, TLSv1.3)", p.Protocols)
	}
	cfg := &tls.Config{
		MinVersion:   lo,
		MaxVersion:   hi,
		CipherSuites: p.Ciphers,
		// Verification is done below so that it can check a name that
		// is not sent (proxy_ssl_server_name off) and honour the depth;
		// Go's own check is turned off for that reason only.
		InsecureSkipVerify: true,
	}
	if p.ServerName {
		cfg.ServerName = name
	}
	if p.SessionReuse {
		cfg.ClientSessionCache = tls.NewLRUClientSessionCache(0)
	}
	if p.Certificate.Path != "" || p.Key.Path != "" {
		cert, err := clientPair(p)
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	if !p.Verify {
		return cfg, nil
	}
	var roots *x509.CertPool // nil: the system's roots
	if p.Trusted.Path != "" {
		cas, err := readCerts(p.Trusted.Path)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: proxy_ssl_trusted_certificate: %v", p.Trusted.Pos.File, p.Trusted.Pos.Line, err)
		}
		roots = poolOf(cas)
	}
	depth := p.VerifyDepth
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		return verifyServer(cs.PeerCertificates, roots, name, depth)
	}
	return cfg, nil
}

// clientPair loads proxy_ssl_certificate and its key.
func clientPair(p config.ProxyTLS) (tls.Certificate, error) {
	if p.Certificate.Path == "" || p.Key.Path == "" {
		at := p.Certificate.Pos
		if p.Certificate.Path == "" {
			at = p.Key.Pos
		}
		return tls.Certificate{}, fmt.Errorf("%s:%d: proxy_ssl_certificate and proxy_ssl_certificate_key go together: name both", at.File, at.Line)
	}
	passwords, err := ReadPasswords(p.PasswordFile.Path)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("%s:%d: cannot read proxy_ssl_password_file: %v", p.PasswordFile.Pos.File, p.PasswordFile.Pos.Line, err)
	}
	cert, err := LoadPair(p.Certificate.Path, p.Key.Path, passwords)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("%s:%d: cannot load proxy_ssl_certificate %q with key %q: %v",
			p.Certificate.Pos.File, p.Certificate.Pos.Line, p.Certificate.Path, p.Key.Path, err)
	}
	return cert, nil
}

// verifyServer checks a backend's chain against roots, name and depth
// (counted as in verifyClient).
func verifyServer(chain []*x509.Certificate, roots *x509.CertPool, name string, depth int) error {
	if len(chain) == 0 {
		return errors.New("upstream sent no certificate")
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	chains, err := chain[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, DNSName: name})
	if err != nil {
		return fmt.Errorf("upstream SSL certificate verify error: %w", err)
	}
	for _, c := range chains {
		if len(c) <= depth+2 {
			return nil
		}
	}
	return errors.New("upstream SSL certificate verify error: its chain is longer than proxy_ssl_verify_depth")
}
