package config

import (
	"fmt"
	"strings"

	"bunsan/internal/conf"
)

// The certificate and key "files" of a server whose certificate comes
// from ACME, as nginx's acme module spells them.
const (
	ACMECertificateVar = "$acme_certificate"
	ACMEKeyVar         = "$acme_certificate_key"
)

// ACMEIssuer is an acme_issuer block: an ACME server bunsan obtains
// certificates from.
type ACMEIssuer struct {
	Name string
	Pos  Pos
	// URI is the ACME directory URL.
	URI      string
	Contacts []string
	// StatePath is where the account key and certificates are kept, so a
	// restart does not order again.
	StatePath string
	AcceptTOS bool
	// Challenge is "tls-alpn-01" (default in bunsan, answered inside the
	// TLS handshake) or "http-01" (answered on the plain-HTTP port).
	Challenge string
	// Trusted is ssl_trusted_certificate: CAs for the ACME server's own
	// HTTPS certificate; empty means the system's. Verify is ssl_verify.
	Trusted File
	Verify  bool
}

// ACMECertificate is acme_certificate in a server: the issuer to use and
// the names to order (the server's exact server_name values by default).
type ACMECertificate struct {
	Issuer string
	Names  []string
	Pos    Pos
}

// ACMEIssuer returns the acme_issuer block called name, or nil.
func (h *HTTP) ACMEIssuer(name string) *ACMEIssuer {
	top := h.tlsDefaults(false)
	if top == nil {
		return nil
	}
	for i := range top.issuers {
		if top.issuers[i].Name == name {
			return &top.issuers[i]
		}
	}
	return nil
}

func acmeDirectives() []*directive {
	return []*directive{
		{name: "acme_issuer", ctx: CtxHTTP, minArgs: 1, maxArgs: 1, block: true, repeat: true, handle: handleACMEIssuer},
		{name: "acme_certificate", ctx: CtxServer, minArgs: 1, maxArgs: many, handle: handleACMECertificate},
		ignoredRow("acme_shared_zone", CtxHTTP, 1, 1, "bunsan is one process; ACME state needs no shared memory"),
	}
}

// handleACMEIssuer reads the issuer block. Its directives are few and
// appear nowhere else, so they are read here rather than given a context
// of their own in the table.
func handleACMEIssuer(l *loader, s *scope, d *conf.Directive) error {
	iss := ACMEIssuer{Name: d.Args[0], Pos: toPos(d.Pos), Challenge: "tls-alpn-01", Verify: true,
		StatePath: l.prefixPath("acme_" + d.Args[0])}
	top := l.http.tlsDefaults(true)
	for _, prev := range top.issuers {
		if prev.Name == iss.Name {
			return argError(d, 0, "duplicate acme_issuer %q (first at %s:%d)", iss.Name, prev.Pos.File, prev.Pos.Line)
		}
	}
	for _, c := range d.Block {
		if err := l.acmeIssuerDirective(&iss, c); err != nil {
			if ce, ok := err.(*conf.Error); ok {
				l.errs = append(l.errs, ce)
			} else {
				l.errorf(c.Pos, "%s", err.Error())
			}
		}
	}
	if iss.URI == "" {
		l.errorf(d.Pos, "acme_issuer %q has no uri: add uri https://ACME-SERVER/directory;", iss.Name)
	}
	top.issuers = append(top.issuers, iss)
	return nil
}

func (l *loader) acmeIssuerDirective(iss *ACMEIssuer, d *conf.Directive) error {
	want := map[string][2]int{"uri": {1, 1}, "contact": {1, 1}, "state_path": {1, 1}, "accept_terms_of_service": {0, 0},
		"challenge": {1, 1}, "ssl_trusted_certificate": {1, 1}, "ssl_verify": {1, 1}, "account_key": {1, 1},
		"external_account_key": {2, 2}, "resolver": {1, 9}, "resolver_timeout": {1, 1}}
	n, ok := want[d.Name]
	switch {
	case !ok:
		return fmt.Errorf("unknown directive %q in acme_issuer: use uri, contact, state_path, accept_terms_of_service, challenge, ssl_trusted_certificate or ssl_verify", d.Name)
	case d.HasBlock:
		return fmt.Errorf("directive %q takes no block", d.Name)
	case len(d.Args) < n[0] || len(d.Args) > n[1]:
		return fmt.Errorf("invalid number of arguments in %q directive", d.Name)
	}
	switch d.Name {
	case "uri":
		if !strings.HasPrefix(d.Args[0], "https://") && !strings.HasPrefix(d.Args[0], "http://") {
			return argError(d, 0, "invalid ACME directory %q: write an https:// URL", d.Args[0])
		}
		iss.URI = d.Args[0]
	case "contact":
		c := d.Args[0]
		if !strings.HasPrefix(c, "mailto:") {
			c = "mailto:" + c
		}
		iss.Contacts = append(iss.Contacts, c)
	case "state_path":
		if d.Args[0] == "off" {
			return argError(d, 0, "state_path off is not supported: bunsan keeps certificates on disk so that a restart does not order again")
		}
		iss.StatePath = l.prefixPath(d.Args[0])
	case "accept_terms_of_service":
		iss.AcceptTOS = true
	case "challenge":
		switch d.Args[0] {
		case "http-01", "http":
			iss.Challenge = "http-01"
		case "tls-alpn-01", "tls-alpn":
			iss.Challenge = "tls-alpn-01"
		default:
			return argError(d, 0, "unsupported challenge %q: use http-01 or tls-alpn-01", d.Args[0])
		}
	case "ssl_trusted_certificate":
		f, err := l.namedFile(d, "trusted certificate")
		iss.Trusted = f
		return err
	case "ssl_verify":
		v, err := parseFlag(d.Args[0])
		if err != nil {
			return argError(d, 0, "%v", err)
		}
		iss.Verify = v
	case "account_key", "external_account_key":
		return fmt.Errorf("%q is not supported yet: bunsan makes its own account key under state_path", d.Name)
	}
	return nil
}

func handleACMECertificate(l *loader, s *scope, d *conf.Directive) error {
	c := &ACMECertificate{Issuer: d.Args[0], Pos: toPos(d.Pos)}
	for i, a := range d.Args[1:] {
		if strings.HasPrefix(a, "key=") {
			if v := a[len("key="):]; v != "ecdsa" && v != "ecdsa:256" {
				return argError(d, i+1, "unsupported key %q: bunsan orders ECDSA P-256 certificates", a)
			}
			continue
		}
		if strings.ContainsAny(a, "*~$") {
			return argError(d, i+1, "invalid identifier %q: ACME names must be plain host names here (HTTP-01 and TLS-ALPN-01 cannot prove wildcards)", a)
		}
		c.Names = append(c.Names, strings.ToLower(a))
	}
	s.srv.SSL.ACME = c
	return nil
}
