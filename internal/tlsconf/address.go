package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"bunsan/internal/config"
	"bunsan/internal/tlsconf/openssl"
)

// Site is one server block as TLS sees it on a listening address.
type Site struct {
	// Names are the block's server_name values as written.
	Names []string
	// SSL is the block's settings merged with the http level
	// (config.HTTP.ServerSSL).
	SSL config.SSL
	// Pos is where the server block starts, for messages.
	Pos config.Pos
	// ACME is the issuer of "ssl_certificate $acme_certificate" and
	// ACMENames the names to order; nil when the server has none.
	ACME      *config.ACMEIssuer
	ACMENames []string
}

// site is a Site with its files loaded.
type site struct {
	certs  []tls.Certificate
	pos    []config.Pos        // where each of certs was named
	cas    []*x509.Certificate // CAs for client certificates
	pool   *x509.CertPool      // the same, as a pool
	verify string
	depth  int
	// staple is set when ssl_stapling is on and a responder is known.
	staple bool
	// acme holds the ACME certificate, when the server has one; it is
	// empty until the first is obtained.
	acme *atomic.Pointer[tls.Certificate]
	// reject is ssl_reject_handshake: handshakes for this server fail.
	reject bool
	// revoked are the serial numbers (with issuer) ssl_crl lists.
	revoked *revocations
}

// has reports whether the site can present a certificate now.
func (s *site) has() bool {
	return len(s.certs) > 0 || (s.acme != nil && s.acme.Load() != nil) || s.reject
}

// AddressConfig builds the TLS configuration of one listening address
// from the server blocks on it, the default server first. The server is
// chosen per handshake by SNI with nginx's server_name rules, and an
// unknown or absent name gets the default server's certificate. Within a
// server, of several certificates (RSA and ECDSA, say) the first the
// client supports is sent.
//
// Protocols, ciphers, curves and session settings are one per address in
// Go, and are taken from the default server, as nginx effectively does
// for settings negotiated before SNI is known; differing values in other
// servers are reported as warnings. Client-certificate verification is
// per server (by SNI), as in nginx.
func AddressConfig(sites []Site, h2 bool) (*tls.Config, []string, error) {
	if len(sites) == 0 {
		return nil, nil, fmt.Errorf("no server on a TLS address")
	}
	var warnings []string
	var idx names
	alpnACME := false
	loaded := make([]site, len(sites))
	for i, s := range sites {
		ld, w, err := loadSite(s)
		if err != nil {
			return nil, nil, err
		}
		warnings = append(warnings, w...)
		loaded[i] = ld
		if err := idx.add(i, s.Names); err != nil {
			return nil, nil, fmt.Errorf("%s:%d: %v", s.Pos.File, s.Pos.Line, err)
		}
		h2 = h2 || s.SSL.HTTP2
		alpnACME = alpnACME || (s.ACME != nil && s.ACME.Challenge == "tls-alpn-01")
	}
	if len(loaded[0].certs) == 0 && loaded[0].acme == nil && !loaded[0].reject {
		return nil, nil, fmt.Errorf("%s:%d: no \"ssl_certificate\" is defined for the default server of this TLS address", sites[0].Pos.File, sites[0].Pos.Line)
	}
	def := sites[0].SSL
	warnings = append(warnings, differences(sites)...)
	cfg := &tls.Config{
		NextProtos:             alpn(h2, alpnACME),
		SessionTicketsDisabled: !def.SessionTickets,
		CipherSuites:           def.Ciphers,
	}
	lo, hi, ok := openssl.Protocols(def.Protocols)
	if !ok {
		return nil, nil, fmt.Errorf("%s:%d: ssl_protocols %v enables no protocol bunsan supports (TLSv1.2, TLSv1.3)", sites[0].Pos.File, sites[0].Pos.Line, def.Protocols)
	}
	cfg.MinVersion, cfg.MaxVersion = lo, hi
	for _, c := range def.Curves {
		cfg.CurvePreferences = append(cfg.CurvePreferences, tls.CurveID(c))
	}
	pick := func(serverName string) *site {
		if i := idx.lookup(serverName); i >= 0 && loaded[i].has() {
			return &loaded[i]
		}
		return &loaded[0]
	}
	cfg.GetCertificate = func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
		if c := DefaultACME.alpnCertificate(hello); c != nil {
			return c, nil // an ACME server validating tls-alpn-01
		}
		s := pick(hello.ServerName)
		if s.reject {
			// nginx sends an unrecognized_name alert; Go sends
			// internal_error for a GetCertificate error. Either way the
			// name is refused and no certificate is shown.
			return nil, fmt.Errorf("handshake for %q rejected (ssl_reject_handshake)", hello.ServerName)
		}
		if s.acme != nil {
			if c := s.acme.Load(); c != nil {
				return c, nil
			}
		}
		if len(s.certs) == 0 {
			return nil, fmt.Errorf("no certificate for %q yet: the ACME certificate has not been obtained", hello.ServerName)
		}
		c := &s.certs[0]
		for i := range s.certs {
			if hello.SupportsCertificate(&s.certs[i]) == nil {
				c = &s.certs[i]
				break
			}
		}
		if s.staple {
			if der := DefaultStapler.Response(c); der != nil {
				stapled := *c
				stapled.OCSPStaple = der
				return &stapled, nil
			}
		}
		return c, nil
	}
	setClientAuth(cfg, loaded, pick)
	if !def.SessionTickets {
		return cfg, warnings, nil
	}
	if len(def.TicketKeys) > 0 {
		keys, err := ticketKeys(def.TicketKeys)
		if err != nil {
			return nil, nil, err
		}
		cfg.SetSessionTicketKeys(keys)
	}
	limitSessionAge(cfg, def.SessionTimeout, time.Now)
	return cfg, warnings, nil
}

// loadSite reads a site's certificates, keys and client CAs.
func loadSite(s Site) (site, []string, error) {
	out := site{verify: s.SSL.VerifyClient, depth: s.SSL.VerifyDepth, reject: s.SSL.RejectHandshake}
	var warnings []string
	passwords, err := ReadPasswords(s.SSL.PasswordFile.Path)
	if err != nil {
		p := s.SSL.PasswordFile.Pos
		return out, nil, fmt.Errorf("%s:%d: cannot read ssl_password_file: %v", p.File, p.Line, err)
	}
	for _, p := range s.SSL.Certificates {
		if p.Cert == config.ACMECertificateVar {
			if s.ACME == nil {
				return out, nil, fmt.Errorf("%s:%d: ssl_certificate $acme_certificate needs acme_certificate ISSUER; in the same server", p.Pos.File, p.Pos.Line)
			}
			slot, err := DefaultACME.Certificate(*s.ACME, s.ACMENames)
			if err != nil {
				return out, nil, fmt.Errorf("%s:%d: %v", p.Pos.File, p.Pos.Line, err)
			}
			out.acme = slot
			continue
		}
		cert, err := LoadPair(p.Cert, p.Key, passwords)
		if err != nil {
			return out, nil, pairError(p, err)
		}
		out.certs = append(out.certs, cert)
		out.pos = append(out.pos, p.Pos)
	}
	if s.SSL.Stapling {
		warnings = append(warnings, out.watchStaples(s)...)
	}
	if out.verify == "" || out.verify == "off" {
		return out, warnings, nil
	}
	for _, f := range []config.File{s.SSL.ClientCertificate, s.SSL.TrustedCertificate} {
		if f.Path == "" {
			continue
		}
		cas, err := readCerts(f.Path)
		if err != nil {
			return out, nil, fmt.Errorf("%s:%d: %v", f.Pos.File, f.Pos.Line, err)
		}
		out.cas = append(out.cas, cas...)
	}
	out.pool = poolOf(out.cas)
	if f := s.SSL.CRL; f.Path != "" {
		r, err := readCRLs(f.Path, out.cas)
		if err != nil {
			return out, nil, fmt.Errorf("%s:%d: ssl_crl: %v", f.Pos.File, f.Pos.Line, err)
		}
		out.revoked = r
	}
	if len(out.cas) == 0 && out.verify != "optional_no_ca" {
		return out, nil, fmt.Errorf("%s:%d: no ssl_client_certificate for ssl_verify_client %s: name the CA file that client certificates must chain to",
			s.Pos.File, s.Pos.Line, out.verify)
	}
	return out, warnings, nil
}

// differences warns where a non-default server sets an address-wide
// setting differently from the default server.
func differences(sites []Site) []string {
	var out []string
	def := sites[0].SSL
	for _, s := range sites[1:] {
		what := ""
		switch {
		case !slices.Equal(s.SSL.Protocols, def.Protocols):
			what = "ssl_protocols"
		case !slices.Equal(s.SSL.Ciphers, def.Ciphers):
			what = "ssl_ciphers"
		case !slices.Equal(s.SSL.Curves, def.Curves):
			what = "ssl_ecdh_curve"
		case s.SSL.SessionTickets != def.SessionTickets || s.SSL.SessionTimeout != def.SessionTimeout:
			what = "ssl_session_tickets/ssl_session_timeout"
		}
		if what != "" {
			out = append(out, fmt.Sprintf("%s:%d: %s differs from the default server of the same address (%s:%d), whose value applies to every connection on it",
				s.Pos.File, s.Pos.Line, what, sites[0].Pos.File, sites[0].Pos.Line))
		}
	}
	return out
}

// watchStaples registers the site's certificates for OCSP stapling. A
// certificate that cannot be stapled is a warning, as in nginx, and is
// served without a response.
func (out *site) watchStaples(s Site) []string {
	var extra []*x509.Certificate
	if f := s.SSL.TrustedCertificate; f.Path != "" {
		if cas, err := readCerts(f.Path); err == nil {
			extra = cas
		}
	}
	var warnings []string
	for i := range out.certs {
		if err := DefaultStapler.Watch(&out.certs[i], s.SSL.StaplingResponder, extra); err != nil {
			p := out.pos[i]
			warnings = append(warnings, fmt.Sprintf("%s:%d: \"ssl_stapling\" ignored: %v", p.File, p.Line, err))
			continue
		}
		out.staple = true
	}
	return warnings
}
