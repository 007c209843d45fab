package config

import (
	"strconv"

	"bunsan/internal/conf"
	"bunsan/internal/tlsconf/openssl"
)

// ProxyTLS is the proxy_ssl_* settings: how bunsan speaks TLS to backends
// named by proxy_pass https://. Read them with HTTP.ProxyTLS, which merges
// http, server and location levels and nginx's defaults.
type ProxyTLS struct {
	// Verify is proxy_ssl_verify (default off, as in nginx).
	Verify      bool
	VerifyDepth int
	// Trusted is proxy_ssl_trusted_certificate: the CAs a backend's
	// certificate must chain to when Verify is on. Empty means the
	// system's roots.
	Trusted File
	// ServerName is proxy_ssl_server_name: send SNI (default off).
	ServerName bool
	// Name is proxy_ssl_name: the name sent in SNI and checked in the
	// backend's certificate; "$proxy_host" (the default) means the host of
	// proxy_pass. It may hold variables.
	Name string
	// Certificate and Key are proxy_ssl_certificate/_key: a client
	// certificate for backends that require one.
	Certificate, Key File
	PasswordFile     File
	// Protocols are proxy_ssl_protocols names.
	Protocols []string
	// Ciphers are the TLS 1.2 suites of proxy_ssl_ciphers; nil = Go's.
	Ciphers []uint16
	// SessionReuse is proxy_ssl_session_reuse (default on).
	SessionReuse bool

	set proxyTLSSet
}

type proxyTLSSet uint32

const (
	setPTVerify proxyTLSSet = 1 << iota
	setPTVerifyDepth
	setPTTrusted
	setPTServerName
	setPTName
	setPTCert
	setPTKey
	setPTPasswordFile
	setPTProtocols
	setPTCiphers
	setPTSessionReuse
)

func defaultProxyTLS() ProxyTLS {
	return ProxyTLS{VerifyDepth: 1, Name: "$proxy_host", Protocols: DefaultProtocols, SessionReuse: true}
}

func mergeProxyTLS(dst, parent *ProxyTLS) {
	inherit := func(bit proxyTLSSet, copyField func()) {
		if dst.set&bit == 0 && parent.set&bit != 0 {
			copyField()
			dst.set |= bit
		}
	}
	inherit(setPTVerify, func() { dst.Verify = parent.Verify })
	inherit(setPTVerifyDepth, func() { dst.VerifyDepth = parent.VerifyDepth })
	inherit(setPTTrusted, func() { dst.Trusted = parent.Trusted })
	inherit(setPTServerName, func() { dst.ServerName = parent.ServerName })
	inherit(setPTName, func() { dst.Name = parent.Name })
	inherit(setPTCert, func() { dst.Certificate = parent.Certificate })
	inherit(setPTKey, func() { dst.Key = parent.Key })
	inherit(setPTPasswordFile, func() { dst.PasswordFile = parent.PasswordFile })
	inherit(setPTProtocols, func() { dst.Protocols = parent.Protocols })
	inherit(setPTCiphers, func() { dst.Ciphers = parent.Ciphers })
	inherit(setPTSessionReuse, func() { dst.SessionReuse = parent.SessionReuse })
}

// ProxyTLS returns the proxy_ssl_* settings in effect in loc (nil for the
// server level) of srv: location, enclosing locations, server, http, then
// nginx's defaults.
func (h *HTTP) ProxyTLS(srv *Server, loc *Location) ProxyTLS {
	var out ProxyTLS
	if loc != nil {
		for _, l := range locationPath(srv.Locations, loc) {
			if p := srv.SSL.locations[l]; p != nil {
				mergeProxyTLS(&out, p)
			}
		}
	}
	mergeProxyTLS(&out, &srv.SSL.Upstream)
	if top := h.tlsDefaults(false); top != nil {
		mergeProxyTLS(&out, &top.Upstream)
	}
	def := defaultProxyTLS()
	def.set = ^proxyTLSSet(0)
	mergeProxyTLS(&out, &def)
	return out
}

// locationPath returns loc and its enclosing locations, innermost first,
// or nil when loc is not among locs.
func locationPath(locs []*Location, loc *Location) []*Location {
	for _, l := range locs {
		if l == loc {
			return []*Location{l}
		}
		if p := locationPath(l.Locations, loc); p != nil {
			return append(p, l)
		}
	}
	return nil
}

// proxyTLSAt is the ProxyTLS the directive at s writes.
func (l *loader) proxyTLSAt(s *scope) *ProxyTLS {
	if s.loc != nil {
		ssl := &s.srv.SSL
		if ssl.locations == nil {
			ssl.locations = map[*Location]*ProxyTLS{}
		}
		p := ssl.locations[s.loc]
		if p == nil {
			p = &ProxyTLS{}
			ssl.locations[s.loc] = p
		}
		return p
	}
	return &l.sslAt(s).Upstream
}

func proxySSLDirectives() []*directive {
	all := CtxHTTPAll
	return []*directive{
		{name: "proxy_ssl_verify", ctx: all, minArgs: 1, maxArgs: 1, handle: proxyTLSFlag(setPTVerify, func(p *ProxyTLS) *bool { return &p.Verify })},
		{name: "proxy_ssl_server_name", ctx: all, minArgs: 1, maxArgs: 1, handle: proxyTLSFlag(setPTServerName, func(p *ProxyTLS) *bool { return &p.ServerName })},
		{name: "proxy_ssl_session_reuse", ctx: all, minArgs: 1, maxArgs: 1, handle: proxyTLSFlag(setPTSessionReuse, func(p *ProxyTLS) *bool { return &p.SessionReuse })},
		{name: "proxy_ssl_trusted_certificate", ctx: all, minArgs: 1, maxArgs: 1, handle: proxyTLSFile(setPTTrusted, "trusted certificate", func(p *ProxyTLS) *File { return &p.Trusted })},
		{name: "proxy_ssl_certificate", ctx: all, minArgs: 1, maxArgs: 1, handle: proxyTLSFile(setPTCert, "certificate", func(p *ProxyTLS) *File { return &p.Certificate })},
		{name: "proxy_ssl_certificate_key", ctx: all, minArgs: 1, maxArgs: 1, handle: proxyTLSFile(setPTKey, "certificate key", func(p *ProxyTLS) *File { return &p.Key })},
		{name: "proxy_ssl_password_file", ctx: all, minArgs: 1, maxArgs: 1, handle: proxyTLSFile(setPTPasswordFile, "password file", func(p *ProxyTLS) *File { return &p.PasswordFile })},
		{name: "proxy_ssl_name", ctx: all, minArgs: 1, maxArgs: 1, handle: handleProxySSLName},
		{name: "proxy_ssl_verify_depth", ctx: all, minArgs: 1, maxArgs: 1, handle: handleProxySSLVerifyDepth},
		{name: "proxy_ssl_protocols", ctx: all, minArgs: 1, maxArgs: many, handle: handleProxySSLProtocols},
		{name: "proxy_ssl_ciphers", ctx: all, minArgs: 1, maxArgs: 1, handle: handleProxySSLCiphers},
	}
}

func proxyTLSFlag(bit proxyTLSSet, field func(*ProxyTLS) *bool) func(l *loader, s *scope, d *conf.Directive) error {
	return func(l *loader, s *scope, d *conf.Directive) error {
		v, err := parseFlag(d.Args[0])
		if err != nil {
			return argError(d, 0, "%v", err)
		}
		p := l.proxyTLSAt(s)
		*field(p) = v
		p.set |= bit
		return nil
	}
}

func proxyTLSFile(bit proxyTLSSet, what string, field func(*ProxyTLS) *File) func(l *loader, s *scope, d *conf.Directive) error {
	return func(l *loader, s *scope, d *conf.Directive) error {
		f, err := l.namedFile(d, what)
		p := l.proxyTLSAt(s)
		*field(p) = f
		p.set |= bit
		return err
	}
}

func handleProxySSLName(l *loader, s *scope, d *conf.Directive) error {
	p := l.proxyTLSAt(s)
	p.Name = d.Args[0]
	p.set |= setPTName
	return nil
}

func handleProxySSLVerifyDepth(l *loader, s *scope, d *conf.Directive) error {
	n, err := strconv.Atoi(d.Args[0])
	if err != nil || n < 0 || n > 100 {
		return argError(d, 0, "invalid verify depth %q: write a whole number, e.g. 2", d.Args[0])
	}
	p := l.proxyTLSAt(s)
	p.VerifyDepth = n
	p.set |= setPTVerifyDepth
	return nil
}

func handleProxySSLProtocols(l *loader, s *scope, d *conf.Directive) error {
	for i, a := range d.Args {
		if !openssl.ValidProtocol(a) {
			return argError(d, i, "invalid protocol %q: use TLSv1.2 and/or TLSv1.3", a)
		}
	}
	if _, _, ok := openssl.Protocols(d.Args); !ok {
		return argError(d, 0, "no usable protocol: bunsan speaks TLSv1.2 and TLSv1.3 to backends; add TLSv1.2")
	}
	p := l.proxyTLSAt(s)
	p.Protocols = append([]string(nil), d.Args...)
	p.set |= setPTProtocols
	return nil
}

func handleProxySSLCiphers(l *loader, s *scope, d *conf.Directive) error {
	c, err := openssl.ParseCiphers(d.Args[0])
	if err != nil {
		return argError(d, 0, "%v", err)
	}
	if len(c.Suites) == 0 {
		return argError(d, 0, "proxy_ssl_ciphers %q selects no TLS 1.2 cipher suite that Go implements", d.Args[0])
	}
	p := l.proxyTLSAt(s)
	p.Ciphers = c.Suites
	p.set |= setPTCiphers
	return nil
}
