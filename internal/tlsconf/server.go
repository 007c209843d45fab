package tlsconf

import (
	"crypto/tls"
	"fmt"
	"os"

	"bunsan/internal/config"
	"bunsan/internal/tlsconf/openssl"
)

// ServerConfig builds the TLS configuration for one listening address
// from the certificate pairs of the servers on it, the default server's
// first: Go's TLS stack picks the first certificate that suits the client's
// SNI and falls back to the first, which is nginx's default-server rule.
// The stream side uses it; HTTP listeners use AddressConfig, which also
// knows server names and per-server settings.
func ServerConfig(pairs []config.CertPair, protocols []string, h2 bool) (*tls.Config, []string, error) {
	var warnings []string
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	for _, p := range pairs {
		cert, err := LoadPair(p.Cert, p.Key, nil)
		if err != nil {
			return nil, nil, pairError(p, err)
		}
		cfg.Certificates = append(cfg.Certificates, cert)
		warnings = append(warnings, keyModeWarnings(p)...)
	}
	if len(protocols) > 0 {
		lo, hi, ok := openssl.Protocols(protocols)
		if !ok {
			return nil, nil, fmt.Errorf("ssl_protocols %v enables no protocol bunsan supports (TLSv1.2, TLSv1.3)", protocols)
		}
		cfg.MinVersion, cfg.MaxVersion = lo, hi
	}
	cfg.NextProtos = alpn(h2, false)
	return cfg, warnings, nil
}

// alpn is the ALPN list of an address. "acme-tls/1" comes last, so that
// only an ACME server validating tls-alpn-01 (which offers nothing else)
// gets it.
func alpn(h2, acmeALPN bool) []string {
	out := []string{"http/1.1"}
	if h2 {
		out = []string{"h2", "http/1.1"}
	}
	if acmeALPN {
		out = append(out, "acme-tls/1")
	}
	return out
}

// pairError places a certificate loading error at its ssl_certificate line.
func pairError(p config.CertPair, err error) error {
	return fmt.Errorf("%s:%d: cannot load certificate %q with key %q: %v", p.Pos.File, p.Pos.Line, p.Cert, p.Key, err)
}

// keyModeWarnings warns about a private key any user of the machine can
// read, which nginx does not but should.
func keyModeWarnings(p config.CertPair) []string {
	if st, err := os.Stat(p.Key); err == nil && st.Mode().Perm()&0o004 != 0 {
		return []string{fmt.Sprintf("%s:%d: private key %q is readable by every user; chmod 600 it", p.Pos.File, p.Pos.Line, p.Key)}
	}
	return nil
}
