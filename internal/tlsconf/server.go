package tlsconf

import (
	"crypto/tls"
	"fmt"
	"os"

	"bunsan/internal/config"
)

// ServerConfig builds the TLS configuration for one listening address
// from the certificate pairs of the servers on it, the default server's
// first: Go's TLS stack picks the first certificate that suits the client's
// SNI and falls back to the first, which is nginx's default-server rule.
func ServerConfig(pairs []config.CertPair, protocols []string, h2 bool) (*tls.Config, []string, error) {
	var warnings []string
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	for _, p := range pairs {
		cert, err := tls.LoadX509KeyPair(p.Cert, p.Key)
		if err != nil {
			return nil, nil, fmt.Errorf("%s:%d: cannot load certificate %q with key %q: %v", p.Pos.File, p.Pos.Line, p.Cert, p.Key, err)
		}
		cfg.Certificates = append(cfg.Certificates, cert)
		if st, err := os.Stat(p.Key); err == nil && st.Mode().Perm()&0o004 != 0 {
			warnings = append(warnings, fmt.Sprintf("%s:%d: private key %q is readable by every user; chmod 600 it", p.Pos.File, p.Pos.Line, p.Key))
		}
	}
	if len(protocols) > 0 {
		cfg.MinVersion, cfg.MaxVersion = tls.VersionTLS13, tls.VersionTLS12
		for _, p := range protocols {
			v := uint16(tls.VersionTLS12)
			if p == "TLSv1.3" {
				v = tls.VersionTLS13
			}
			cfg.MinVersion = min(cfg.MinVersion, v)
			cfg.MaxVersion = max(cfg.MaxVersion, v)
		}
	}
	if h2 {
		cfg.NextProtos = []string{"h2", "http/1.1"}
	} else {
		cfg.NextProtos = []string{"http/1.1"}
	}
	return cfg, warnings, nil
}
