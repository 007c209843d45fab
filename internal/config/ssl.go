package config

import (
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"bunsan/internal/conf"
	"bunsan/internal/tlsconf/pemkey"
)

// SSL is the TLS settings written in one server block (ssl_*, http2,
// proxy_ssl_*). Use HTTP.ServerSSL to read them merged with the http level
// and nginx's defaults; the raw struct holds only what the server wrote.
type SSL struct {
	Certificates []CertPair
	// PasswordFile holds passphrases for encrypted keys, one per line.
	PasswordFile File
	// Protocols are the ssl_protocols names as written.
	Protocols []string
	// Ciphers are the TLS 1.2 suites ssl_ciphers selected, in order;
	// nil means Go's defaults. CipherString is the text as written.
	Ciphers      []uint16
	CipherString string
	// PreferServerCiphers is recorded; Go orders suites itself.
	PreferServerCiphers bool
	// Curves are ssl_ecdh_curve's groups (tls.CurveID values); nil is auto.
	Curves []uint16
	// SessionCache is ssl_session_cache as written ("none" by default).
	// Go resumes sessions with tickets only, so it is recorded.
	SessionCache   string
	SessionTimeout time.Duration
	SessionTickets bool
	// TicketKeys are ssl_session_ticket_key files: the first encrypts new
	// tickets, all decrypt, so that several bunsans (or a restart) share
	// sessions.
	TicketKeys []File
	// ClientCertificate is ssl_client_certificate (CAs that clients'
	// certificates must chain to, also sent to clients as acceptable);
	// TrustedCertificate is ssl_trusted_certificate (CAs for verification
	// and stapling, not sent).
	ClientCertificate  File
	TrustedCertificate File
	// VerifyClient is "off", "on", "optional" or "optional_no_ca".
	VerifyClient string
	VerifyDepth  int
	// CRL is ssl_crl: revoked client certificates (PEM or DER CRLs).
	CRL File
	// HTTP2 is "http2 on;" (the per-server form of listen ... http2).
	HTTP2 bool
	// RejectHandshake is ssl_reject_handshake: handshakes that select
	// this server fail (typically a default server refusing unknown
	// names); the server needs no certificate.
	RejectHandshake bool
	// Stapling is ssl_stapling; StaplingVerify is ssl_stapling_verify
	// (recorded: responses are always checked against the issuer);
	// StaplingResponder overrides the certificate's OCSP URL.
	Stapling          bool
	StaplingVerify    bool
	StaplingResponder string
	// Upstream is the proxy_ssl_* settings written at this level (server,
	// or http for the http-level defaults).
	Upstream ProxyTLS

	// ACME is acme_certificate: the certificate of "ssl_certificate
	// $acme_certificate" comes from this issuer.
	ACME *ACMECertificate

	// locations holds proxy_ssl_* written inside this server's locations.
	locations map[*Location]*ProxyTLS
	// issuers are the http level's acme_issuer blocks.
	issuers []ACMEIssuer
	set     sslSet
}

// CertPair is one ssl_certificate with its key, as absolute paths.
type CertPair struct {
	Cert, Key string
	Pos       Pos
}

// File is a path named by a directive, absolute, with where it was named
// (so that errors found when the file is read can point there).
type File struct {
	Path string
	Pos  Pos
}

// sslSet has a bit per SSL field that can be written at a level.
type sslSet uint32

const (
	setSSLCerts sslSet = 1 << iota
	setSSLPasswordFile
	setSSLProtocols
	setSSLCiphers
	setSSLPrefer
	setSSLCurves
	setSSLSessionCache
	setSSLSessionTimeout
	setSSLSessionTickets
	setSSLClientCert
	setSSLTrusted
	setSSLVerifyClient
	setSSLVerifyDepth
	setSSLHTTP2
	setSSLStapling
	setSSLStaplingVerify
	setSSLStaplingResponder
	setSSLTicketKeys
	setSSLReject
	setSSLCRL
)

// DefaultProtocols is nginx's ssl_protocols default since 1.23.4.
var DefaultProtocols = []string{"TLSv1.2", "TLSv1.3"}

// defaultSSL is nginx's defaults for the ssl_* directives.
func defaultSSL() SSL {
	return SSL{
		Protocols:      DefaultProtocols,
		SessionCache:   "none",
		SessionTimeout: 5 * time.Minute,
		SessionTickets: true,
		VerifyClient:   "off",
		VerifyDepth:    1,
		Upstream:       defaultProxyTLS(),
	}
}

// mergeSSL fills what dst did not write from parent, as nginx's
// ngx_http_ssl_merge_srv_conf does (certificates are inherited as a whole).
func mergeSSL(dst *SSL, parent *SSL) {
	inherit := func(bit sslSet, copyField func()) {
		if dst.set&bit == 0 && parent.set&bit != 0 {
			copyField()
			dst.set |= bit
		}
	}
	inherit(setSSLCerts, func() { dst.Certificates = parent.Certificates })
	inherit(setSSLPasswordFile, func() { dst.PasswordFile = parent.PasswordFile })
	inherit(setSSLProtocols, func() { dst.Protocols = parent.Protocols })
	inherit(setSSLCiphers, func() { dst.Ciphers, dst.CipherString = parent.Ciphers, parent.CipherString })
	inherit(setSSLPrefer, func() { dst.PreferServerCiphers = parent.PreferServerCiphers })
	inherit(setSSLCurves, func() { dst.Curves = parent.Curves })
	inherit(setSSLSessionCache, func() { dst.SessionCache = parent.SessionCache })
	inherit(setSSLSessionTimeout, func() { dst.SessionTimeout = parent.SessionTimeout })
	inherit(setSSLSessionTickets, func() { dst.SessionTickets = parent.SessionTickets })
	inherit(setSSLClientCert, func() { dst.ClientCertificate = parent.ClientCertificate })
	inherit(setSSLTrusted, func() { dst.TrustedCertificate = parent.TrustedCertificate })
	inherit(setSSLVerifyClient, func() { dst.VerifyClient = parent.VerifyClient })
	inherit(setSSLVerifyDepth, func() { dst.VerifyDepth = parent.VerifyDepth })
	inherit(setSSLHTTP2, func() { dst.HTTP2 = parent.HTTP2 })
	inherit(setSSLStapling, func() { dst.Stapling = parent.Stapling })
	inherit(setSSLStaplingVerify, func() { dst.StaplingVerify = parent.StaplingVerify })
	inherit(setSSLStaplingResponder, func() { dst.StaplingResponder = parent.StaplingResponder })
	inherit(setSSLTicketKeys, func() { dst.TicketKeys = parent.TicketKeys })
	inherit(setSSLReject, func() { dst.RejectHandshake = parent.RejectHandshake })
	inherit(setSSLCRL, func() { dst.CRL = parent.CRL })
	mergeProxyTLS(&dst.Upstream, &parent.Upstream)
}

// ServerSSL returns srv's TLS settings merged with the http level and
// nginx's defaults. It does not modify the model.
func (h *HTTP) ServerSSL(srv *Server) SSL {
	out := srv.SSL
	out.locations, out.issuers = nil, nil
	if top := h.tlsDefaults(false); top != nil {
		mergeSSL(&out, top)
	}
	def := defaultSSL()
	def.set = ^sslSet(0)
	def.Upstream.set = ^proxyTLSSet(0)
	mergeSSL(&out, &def)
	return out
}

// HasCertificate reports whether s names at least one certificate pair,
// or needs none (ssl_reject_handshake on). Use it on HTTP.ServerSSL's
// result for the "listen ... ssl" check.
func (s *SSL) HasCertificate() bool { return len(s.Certificates) > 0 || s.RejectHandshake }

// sslDirectives are the TLS rows of the directive table.
func sslDirectives() []*directive {
	hs := CtxHTTP | CtxServer
	return append([]*directive{
		{name: "ssl_certificate", ctx: hs, minArgs: 1, maxArgs: 1, repeat: true, handle: handleSSLCert},
		{name: "ssl_certificate_key", ctx: hs, minArgs: 1, maxArgs: 1, repeat: true, handle: handleSSLKey},
		{name: "ssl_password_file", ctx: hs, minArgs: 1, maxArgs: 1, handle: sslFileSetter(setSSLPasswordFile, "password file", func(s *SSL) *File { return &s.PasswordFile })},
		{name: "ssl_protocols", ctx: hs, minArgs: 1, maxArgs: many, handle: handleSSLProtocols},
		{name: "ssl_ciphers", ctx: hs, minArgs: 1, maxArgs: 1, handle: handleSSLCiphers},
		{name: "ssl_prefer_server_ciphers", ctx: hs, minArgs: 1, maxArgs: 1, handle: sslFlag(setSSLPrefer, func(s *SSL) *bool { return &s.PreferServerCiphers })},
		{name: "ssl_ecdh_curve", ctx: hs, minArgs: 1, maxArgs: 1, handle: handleSSLCurve},
		{name: "ssl_session_cache", ctx: hs, minArgs: 1, maxArgs: 2, handle: handleSSLSessionCache},
		{name: "ssl_session_timeout", ctx: hs, minArgs: 1, maxArgs: 1, handle: handleSSLSessionTimeout},
		{name: "ssl_session_tickets", ctx: hs, minArgs: 1, maxArgs: 1, handle: sslFlag(setSSLSessionTickets, func(s *SSL) *bool { return &s.SessionTickets })},
		{name: "ssl_client_certificate", ctx: hs, minArgs: 1, maxArgs: 1, handle: sslFileSetter(setSSLClientCert, "client certificate", func(s *SSL) *File { return &s.ClientCertificate })},
		{name: "ssl_trusted_certificate", ctx: hs, minArgs: 1, maxArgs: 1, handle: sslFileSetter(setSSLTrusted, "trusted certificate", func(s *SSL) *File { return &s.TrustedCertificate })},
		{name: "ssl_verify_client", ctx: hs, minArgs: 1, maxArgs: 1, handle: handleSSLVerifyClient},
		{name: "ssl_crl", ctx: hs, minArgs: 1, maxArgs: 1, handle: sslFileSetter(setSSLCRL, "CRL", func(s *SSL) *File { return &s.CRL })},
		{name: "ssl_conf_command", ctx: hs, minArgs: 2, maxArgs: 2, repeat: true,
			warn: "OpenSSL configuration commands do not apply to Go's TLS; use ssl_protocols, ssl_ciphers and ssl_ecdh_curve"},
		{name: "ssl_ocsp", ctx: hs, minArgs: 1, maxArgs: 1,
			warn: "client certificates are not checked by OCSP; use ssl_crl"},
		ignoredRow("ssl_ocsp_responder", hs, 1, 1, "client certificates are not checked by OCSP"),
		ignoredRow("ssl_ocsp_cache", hs, 1, 1, "client certificates are not checked by OCSP"),
		{name: "ssl_verify_depth", ctx: hs, minArgs: 1, maxArgs: 1, handle: handleSSLVerifyDepth},
		{name: "ssl_reject_handshake", ctx: hs, minArgs: 1, maxArgs: 1, handle: sslFlag(setSSLReject, func(s *SSL) *bool { return &s.RejectHandshake })},
		{name: "http2", ctx: hs, minArgs: 1, maxArgs: 1, handle: sslFlag(setSSLHTTP2, func(s *SSL) *bool { return &s.HTTP2 })},
		{name: "ssl_stapling", ctx: hs, minArgs: 1, maxArgs: 1, handle: sslFlag(setSSLStapling, func(s *SSL) *bool { return &s.Stapling })},
		{name: "ssl_stapling_verify", ctx: hs, minArgs: 1, maxArgs: 1, handle: sslFlag(setSSLStaplingVerify, func(s *SSL) *bool { return &s.StaplingVerify })},
		{name: "ssl_stapling_responder", ctx: hs, minArgs: 1, maxArgs: 1, handle: handleSSLStaplingResponder},
		{name: "ssl_stapling_file", ctx: hs, minArgs: 1, maxArgs: 1,
			warn: "a stapling file is not read; responses are fetched from the responder"},
		ignoredRow("ssl_dhparam", hs, 1, 1, "Go has no finite-field DHE suites; ECDHE is used"),
		ignoredRow("ssl_buffer_size", hs, 1, 1, "Go's TLS sizes its records itself"),
		ignoredRow("ssl_ecdh_curves", hs, 1, 1, "use ssl_ecdh_curve"),
		ignoredRow("http2_max_concurrent_streams", hs, 1, 1, "Go's HTTP/2 server allows 250 concurrent streams per connection"),
		ignoredRow("http2_recv_buffer_size", CtxHTTP, 1, 1, goTuning),
		ignoredRow("http2_chunk_size", CtxHTTPAll, 1, 1, goTuning),
		ignoredRow("http2_body_preread_size", hs, 1, 1, goTuning),
		ignoredRow("http2_idle_timeout", hs, 1, 1, "obsolete in nginx: keepalive_timeout applies"),
		{name: "ssl_session_ticket_key", ctx: hs, minArgs: 1, maxArgs: 1, repeat: true, handle: handleSSLTicketKey},
		{name: "ssl_early_data", ctx: hs, minArgs: 1, maxArgs: 1, handle: handleSSLEarlyData},
		{name: "ssl", ctx: hs, minArgs: 1, maxArgs: 1, handle: handleSSLObsolete},
	}, append(proxySSLDirectives(), acmeDirectives()...)...)
}

// sslAt is the SSL settings the directive at s writes: the server's, or
// the http level's.
func (l *loader) sslAt(s *scope) *SSL {
	if s.srv != nil {
		return &s.srv.SSL
	}
	return l.http.tlsDefaults(true)
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
	if (!key && p == ACMECertificateVar) || (key && p == ACMEKeyVar) {
		addCertFile(l.sslAt(s), p, key, d)
		return nil
	}
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
	} else if st, err := os.Stat(abs); key && err == nil && st.Mode().Perm()&0o004 != 0 {
		// nginx says nothing; a key any local user can read is worth a word.
		l.m.Warnings = append(l.m.Warnings, Diag{Pos: toPos(d.ArgPos[0]),
			Msg: fmt.Sprintf("private key %q is readable by every user; chmod 600 it", abs)})
	}
	// Recorded even when missing, so the pair still counts for
	// "listen ... ssl" and the user sees one error, not two.
	ssl := l.sslAt(s)
	pair := addCertFile(ssl, abs, key, d)
	if missing == nil {
		l.checkPair(ssl, pair)
	}
	return missing
}

// checkPair loads a pair once both halves are named, so that bunsan -t
// reports a broken certificate or a key that does not match it, as
// nginx -t does. An encrypted key whose ssl_password_file is not named
// yet (it may follow) is left to the listeners' setup, which reports it.
func (l *loader) checkPair(ssl *SSL, p CertPair) {
	if p.Cert == "" || p.Key == "" || p.Cert == ACMECertificateVar || fileExists(p.Cert) != nil || fileExists(p.Key) != nil {
		return
	}
	passwords, err := pemkey.ReadPasswords(ssl.PasswordFile.Path)
	if err != nil {
		return // reported at ssl_password_file
	}
	cert, err := pemkey.LoadPair(p.Cert, p.Key, passwords)
	if err != nil {
		if errors.Is(err, pemkey.ErrEncrypted) && ssl.PasswordFile.Path == "" {
			return
		}
		l.errorf(fromPos(p.Pos), "cannot load certificate %q with key %q: %v", p.Cert, p.Key, err)
		return
	}
	// Served all the same, as nginx does, but clients will refuse it.
	if leaf, err := x509.ParseCertificate(cert.Certificate[0]); err == nil {
		now := time.Now()
		switch {
		case now.After(leaf.NotAfter):
			l.m.Warnings = append(l.m.Warnings, Diag{Pos: p.Pos, Msg: fmt.Sprintf("certificate %q expired on %s", p.Cert, leaf.NotAfter.UTC().Format(time.DateOnly))})
		case now.Before(leaf.NotBefore):
			l.m.Warnings = append(l.m.Warnings, Diag{Pos: p.Pos, Msg: fmt.Sprintf("certificate %q is not valid before %s", p.Cert, leaf.NotBefore.UTC().Format(time.RFC3339))})
		}
	}
}

// addCertFile pairs certificates and keys by order: the n-th
// ssl_certificate with the n-th ssl_certificate_key. It returns the pair
// written to.
func addCertFile(ssl *SSL, abs string, key bool, d *conf.Directive) CertPair {
	ssl.set |= setSSLCerts
	certs := &ssl.Certificates
	for i := range *certs {
		c := &(*certs)[i]
		if key && c.Key == "" {
			c.Key = abs
			return *c
		}
		if !key && c.Cert == "" {
			c.Cert = abs
			return *c
		}
	}
	c := CertPair{Pos: toPos(d.Pos)}
	if key {
		c.Key = abs
	} else {
		c.Cert = abs
	}
	*certs = append(*certs, c)
	return c
}
