package process

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"bunsan/internal/config"
	"bunsan/internal/tlsconf"
)

type plan struct {
	// sock is the address's socket setup: the one listen directive that
	// gives socket parameters (the configuration allows one).
	sock config.Socket
	tls  *tls.Config
	// h2c is set when a plain-text address has "listen ... http2" or a
	// server on it has "http2 on": HTTP/2 with prior knowledge is served
	// beside HTTP/1.1, as nginx 1.25.1+ does.
	h2c bool
}

// httpProtocols is what the address's http.Server should speak: HTTP/1.1
// always, HTTP/2 over TLS (ALPN decides per connection), and unencrypted
// HTTP/2 where h2c is set. Set it as http.Server.Protocols when the
// server is made; over TLS the ALPN list of the TLS configuration, not
// this, decides whether h2 is offered.
func (p plan) httpProtocols() *http.Protocols {
	var pr http.Protocols
	pr.SetHTTP1(true)
	pr.SetHTTP2(p.tls != nil)
	pr.SetUnencryptedHTTP2(p.tls == nil && p.h2c)
	return &pr
}

// listenPlan works out every address to listen on and its TLS settings.
// Certificates are read here, on every load and reload; an error (with
// the file and line of the directive at fault) fails the whole apply, so
// a broken certificate on reload leaves the old configuration serving.
func listenPlan(m *config.Model, log *slog.Logger) (map[string]plan, error) {
	want := map[string]plan{}
	tlsconf.SetLog(log)
	if m.HTTP == nil {
		return want, nil
	}
	type tlsInput struct {
		sites []tlsconf.Site
		h2    bool
		ssl   bool
	}
	inputs := map[string]*tlsInput{}
	for _, srv := range m.HTTP.Servers {
		ssl := m.HTTP.ServerSSL(srv)
		for _, ln := range srv.Listens {
			in := inputs[ln.Addr]
			if in == nil {
				in = &tlsInput{}
				inputs[ln.Addr] = in
			}
			in.ssl = in.ssl || ln.SSL
			in.h2 = in.h2 || ln.HTTP2 || ssl.HTTP2
			site := tlsconf.Site{Names: srv.Names, SSL: ssl, Pos: srv.Pos}
			if a := ssl.ACME; a != nil {
				iss := m.HTTP.ACMEIssuer(a.Issuer)
				if iss == nil {
					return nil, fmt.Errorf("%s:%d: no acme_issuer %q is defined: add acme_issuer %s { uri ...; } to http", a.Pos.File, a.Pos.Line, a.Issuer, a.Issuer)
				}
				site.ACME, site.ACMENames = iss, acmeNames(a, srv)
			}
			if ln.DefaultServer {
				in.sites = append([]tlsconf.Site{site}, in.sites...)
			} else {
				in.sites = append(in.sites, site)
			}
			p := want[ln.Addr]
			if ln.Given {
				p.sock = ln.Socket
			}
			want[ln.Addr] = p
		}
	}
	for addr, in := range inputs {
		p := want[addr]
		if !in.ssl {
			p.h2c = in.h2
			want[addr] = p
			continue
		}
		cfg, warnings, err := tlsconf.AddressConfig(in.sites, in.h2)
		if err != nil {
			return nil, err
		}
		for _, w := range warnings {
			log.Warn(w)
		}
		p.tls = cfg
		want[addr] = p
	}
	return want, nil
}

// acmeNames are the names to order for a server: acme_certificate's
// identifiers, or else the server's exact server_name values (wildcards
// and regular expressions cannot be proven with HTTP-01 or TLS-ALPN-01).
func acmeNames(a *config.ACMECertificate, srv *config.Server) []string {
	if len(a.Names) > 0 {
		return a.Names
	}
	var out []string
	for _, n := range srv.Names {
		if n != "" && n != "_" && !strings.ContainsAny(n, "*~") && !strings.HasPrefix(n, ".") {
			out = append(out, n)
		}
	}
	return out
}
