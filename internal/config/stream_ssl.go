package config

import (
	"bunsan/internal/conf"
)

// The stream ssl module's certificate rows. They fill StreamProxy.SSL with
// the same CertPair the HTTP side uses, so the tlsconf package builds both.

// handleStreamSSLFile records ssl_certificate or ssl_certificate_key,
// pairing the n-th certificate with the n-th key.
func handleStreamSSLFile(l *loader, s *scope, d *conf.Directive) error {
	ss := streamOf(s)
	key := d.Name == "ssl_certificate_key"
	abs := l.confPath(d.Args[0])
	if ss.fresh("ssl_certificate*") {
		ss.proxy.SSL.Certificates = nil
	}
	certs := &ss.proxy.SSL.Certificates
	placed := false
	for i := range *certs {
		c := &(*certs)[i]
		if key && c.Key == "" {
			c.Key, placed = abs, true
			break
		}
		if !key && c.Cert == "" {
			c.Cert, placed = abs, true
			break
		}
	}
	if !placed {
		c := CertPair{Pos: toPos(d.Pos)}
		if key {
			c.Key = abs
		} else {
			c.Cert = abs
		}
		*certs = append(*certs, c)
	}
	if err := fileExists(abs); err != nil {
		return argError(d, 0, "cannot load %s %q: %v; check the path (relative paths resolve from %s)", d.Name, abs, plainErr(err), l.m.ConfDir)
	}
	return nil
}

func handleStreamSSLProtocols(l *loader, s *scope, d *conf.Directive) error {
	var out []string
	for i, p := range d.Args {
		switch p {
		case "TLSv1.2", "TLSv1.3":
			out = append(out, p)
		case "SSLv2", "SSLv3", "TLSv1", "TLSv1.1":
			// Accepted as nginx does, never enabled.
		default:
			return argError(d, i, "invalid protocol %q: use TLSv1.2 and/or TLSv1.3", p)
		}
	}
	streamOf(s).proxy.SSL.Protocols = out
	return nil
}
