package config

import (
	"strconv"

	"bunsan/internal/conf"
	"bunsan/internal/tlsconf/openssl"
)

// The stream proxy_ssl_* rows: TLS from bunsan to stream backends. They
// fill the same ProxyTLS the http side uses, so tlsconf.ClientConfig
// builds both.

func streamProxySSLDirectives() []*directive {
	all := CtxStreamAll
	return []*directive{
		{name: "proxy_ssl", ctx: all, minArgs: 1, maxArgs: 1, handle: streamFlag(func(p *StreamProxy) *bool { return &p.SSLUpstream })},
		{name: "proxy_ssl_verify", ctx: all, minArgs: 1, maxArgs: 1, handle: streamTLSFlag(func(p *ProxyTLS) *bool { return &p.Verify })},
		{name: "proxy_ssl_server_name", ctx: all, minArgs: 1, maxArgs: 1, handle: streamTLSFlag(func(p *ProxyTLS) *bool { return &p.ServerName })},
		{name: "proxy_ssl_session_reuse", ctx: all, minArgs: 1, maxArgs: 1, handle: streamTLSFlag(func(p *ProxyTLS) *bool { return &p.SessionReuse })},
		{name: "proxy_ssl_trusted_certificate", ctx: all, minArgs: 1, maxArgs: 1, handle: streamTLSFile(func(p *ProxyTLS) *File { return &p.Trusted })},
		{name: "proxy_ssl_certificate", ctx: all, minArgs: 1, maxArgs: 1, handle: streamTLSFile(func(p *ProxyTLS) *File { return &p.Certificate })},
		{name: "proxy_ssl_certificate_key", ctx: all, minArgs: 1, maxArgs: 1, handle: streamTLSFile(func(p *ProxyTLS) *File { return &p.Key })},
		{name: "proxy_ssl_name", ctx: all, minArgs: 1, maxArgs: 1, handle: handleStreamSSLName},
		{name: "proxy_ssl_verify_depth", ctx: all, minArgs: 1, maxArgs: 1, handle: handleStreamSSLVerifyDepth},
		{name: "proxy_ssl_protocols", ctx: all, minArgs: 1, maxArgs: many, handle: handleStreamSSLUpProtocols},
		ignoredRow("proxy_ssl_ciphers", all, 1, 1, "Go's TLS chooses safe cipher suites itself"),
	}
}

// defaultStreamProxyTLS is nginx's proxy_ssl_* defaults in stream; the
// name defaults to the proxy_pass host ("$proxy_host" as in http).
func defaultStreamProxyTLS() ProxyTLS {
	return ProxyTLS{VerifyDepth: 1, Name: "$proxy_host", Protocols: DefaultProtocols, SessionReuse: true}
}

func streamTLSFlag(field func(*ProxyTLS) *bool) func(*loader, *scope, *conf.Directive) error {
	return func(l *loader, s *scope, d *conf.Directive) error {
		on, err := parseFlag(d.Args[0])
		if err != nil {
			return argError(d, 0, "%v", err)
		}
		*field(&streamOf(s).proxy.UpstreamTLS) = on
		return nil
	}
}

func streamTLSFile(field func(*ProxyTLS) *File) func(*loader, *scope, *conf.Directive) error {
	return func(l *loader, s *scope, d *conf.Directive) error {
		abs := l.confPath(d.Args[0])
		*field(&streamOf(s).proxy.UpstreamTLS) = File{Path: abs, Pos: toPos(d.Pos)}
		if err := fileExists(abs); err != nil {
			return argError(d, 0, "cannot load %q for %s: %v", abs, d.Name, plainErr(err))
		}
		return nil
	}
}

func handleStreamSSLName(l *loader, s *scope, d *conf.Directive) error {
	streamOf(s).proxy.UpstreamTLS.Name = d.Args[0]
	return nil
}

func handleStreamSSLVerifyDepth(l *loader, s *scope, d *conf.Directive) error {
	n, err := strconv.Atoi(d.Args[0])
	if err != nil || n < 0 || n > 100 {
		return argError(d, 0, "invalid verify depth %q: write a whole number, e.g. 2", d.Args[0])
	}
	streamOf(s).proxy.UpstreamTLS.VerifyDepth = n
	return nil
}

func handleStreamSSLUpProtocols(l *loader, s *scope, d *conf.Directive) error {
	for i, a := range d.Args {
		if !openssl.ValidProtocol(a) {
			return argError(d, i, "invalid protocol %q: use TLSv1.2 and/or TLSv1.3", a)
		}
	}
	if _, _, ok := openssl.Protocols(d.Args); !ok {
		return argError(d, 0, "no usable protocol: bunsan speaks TLSv1.2 and TLSv1.3 to backends; add TLSv1.2")
	}
	streamOf(s).proxy.UpstreamTLS.Protocols = append([]string(nil), d.Args...)
	return nil
}
