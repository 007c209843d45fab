package config

import (
	"strings"

	"bunsan/internal/conf"
)

// SSL is a server's TLS settings.
type SSL struct {
	Certificates []CertPair
	Protocols    []string
}

// CertPair is one ssl_certificate with its key, as absolute paths.
type CertPair struct {
	Cert, Key string
	Pos       Pos
}

// sslDirectives are the TLS rows of the directive table (http's ssl_*).
func sslDirectives() []*directive {
	return []*directive{
		{name: "ssl_certificate", ctx: CtxHTTP | CtxServer, minArgs: 1, maxArgs: 1, repeat: true, handle: handleSSLCert},
		{name: "ssl_certificate_key", ctx: CtxHTTP | CtxServer, minArgs: 1, maxArgs: 1, repeat: true, handle: handleSSLKey},
		{name: "ssl_protocols", ctx: CtxHTTP | CtxServer, minArgs: 1, maxArgs: many, handle: handleSSLProtocols},
		{name: "ssl_prefer_server_ciphers", ctx: CtxHTTP | CtxServer, minArgs: 1, maxArgs: 1,
			ignored: "Go's TLS orders cipher suites itself, preferring the server's choice"},
	}
}

func handleSSLCert(l *loader, s *scope, d *conf.Directive) error {
	return l.sslFile(s, d, false)
}

func handleSSLKey(l *loader, s *scope, d *conf.Directive) error {
	return l.sslFile(s, d, true)
}

// sslFile records a certificate or key path, checking that it is there.
func (l *loader) sslFile(s *scope, d *conf.Directive, key bool) error {
	p := d.Args[0]
	if strings.HasPrefix(p, "data:") || strings.Contains(p, "$") {
		return argError(d, 0, "%q: certificates from variables or data: are not supported yet; name a PEM file", p)
	}
	abs := l.confPath(p)
	what := "certificate"
	if key {
		what = "certificate key"
	}
	var missing error
	if err := fileExists(abs); err != nil {
		missing = argError(d, 0, "cannot load %s %q: %v; check the path (relative paths resolve from %s)",
			what, abs, plainErr(err), l.m.ConfDir)
	}
	if s.srv != nil {
		// Recorded even when missing, so the pair still counts for
		// "listen ... ssl" and the user sees one error, not two.
		l.addCertFile(s.srv, abs, key, d)
	}
	return missing
}

// addCertFile pairs certificates and keys by order: the n-th
// ssl_certificate with the n-th ssl_certificate_key.
func (l *loader) addCertFile(srv *Server, abs string, key bool, d *conf.Directive) {
	certs := &srv.SSL.Certificates
	for i := range *certs {
		c := &(*certs)[i]
		if key && c.Key == "" {
			c.Key = abs
			return
		}
		if !key && c.Cert == "" {
			c.Cert = abs
			return
		}
	}
	c := CertPair{Pos: toPos(d.Pos)}
	if key {
		c.Key = abs
	} else {
		c.Cert = abs
	}
	*certs = append(*certs, c)
}

func handleSSLProtocols(l *loader, s *scope, d *conf.Directive) error {
	var out []string
	for i, p := range d.Args {
		switch p {
		case "TLSv1.2", "TLSv1.3":
			out = append(out, p)
		case "SSLv2", "SSLv3", "TLSv1", "TLSv1.1":
			// Accepted as nginx does, but never enabled: Go refuses
			// them, and they are broken.
		default:
			return argError(d, i, "invalid protocol %q: use TLSv1.2 and/or TLSv1.3", p)
		}
	}
	if s.srv != nil {
		s.srv.SSL.Protocols = out
	}
	return nil
}
