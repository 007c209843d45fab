package config

import (
	"fmt"
	"regexp"
	"strings"

	"bunsan/internal/conf"
)

// Redirect is one "proxy_redirect FROM TO" pair. A FROM starting with
// "~" or "~*" is a regular expression.
type Redirect struct {
	From, To string
}

func proxyMoreDirectives() []*directive {
	all := CtxHTTPAll
	return []*directive{
		{name: "proxy_hide_header", ctx: all, minArgs: 1, maxArgs: 1, repeat: true, handle: listAdder(setHideHeaders, func(p *Proxy) *[]string { return &p.HideHeaders })},
		{name: "proxy_pass_header", ctx: all, minArgs: 1, maxArgs: 1, repeat: true, handle: listAdder(setPassHeaders, func(p *Proxy) *[]string { return &p.PassHeaders })},
		{name: "proxy_pass_request_headers", ctx: all, minArgs: 1, maxArgs: 1, handle: flagSetter(setPassRequestHeaders, func(p *Proxy) *bool { return &p.PassRequestHeaders })},
		{name: "proxy_intercept_errors", ctx: all, minArgs: 1, maxArgs: 1, handle: flagSetter(setInterceptErrors, func(p *Proxy) *bool { return &p.InterceptErrors })},
		{name: "proxy_request_buffering", ctx: all, minArgs: 1, maxArgs: 1, handle: flagSetter(setRequestBuffering, func(p *Proxy) *bool { return &p.RequestBuffering })},
		{name: "proxy_redirect", ctx: all, minArgs: 1, maxArgs: 2, repeat: true, handle: handleProxyRedirect},
		ignoredRow("proxy_pass_request_body", all, 1, 1, "the request body is always passed"),
		ignoredRow("proxy_max_temp_file_size", all, 1, 1, "bunsan streams responses and keeps no temporary files"),
		ignoredRow("proxy_temp_file_write_size", all, 1, 1, "bunsan keeps no temporary files"),
		ignoredRow("proxy_temp_path", all, 1, 4, "bunsan keeps no temporary files"),
		ignoredRow("proxy_ignore_client_abort", all, 1, 1, "an aborted client cancels the upstream request"),
		ignoredRow("proxy_socket_keepalive", all, 1, 1, "TCP keep-alive is always on to backends"),
		ignoredRow("client_body_buffer_size", all, 1, 1, "request bodies are buffered in memory up to client_max_body_size"),
	}
}

func listAdder(bit proxySet, field func(*Proxy) *[]string) func(*loader, *scope, *conf.Directive) error {
	return func(l *loader, s *scope, d *conf.Directive) error {
		f := field(s.proxy)
		if s.proxy.set&bit == 0 {
			*f = nil // a level's own list replaces the inherited one
		}
		*f = append(*f, d.Args[0])
		s.proxy.set |= bit
		return nil
	}
}

func flagSetter(bit proxySet, field func(*Proxy) *bool) func(*loader, *scope, *conf.Directive) error {
	return func(l *loader, s *scope, d *conf.Directive) error {
		on, err := parseFlag(d.Args[0])
		if err != nil {
			return argError(d, 0, "%v", err)
		}
		*field(s.proxy) = on
		s.proxy.set |= bit
		return nil
	}
}

func handleProxyRedirect(l *loader, s *scope, d *conf.Directive) error {
	p := s.proxy
	if p.set&setRedirect == 0 {
		p.RedirectOff, p.Redirects = false, nil
	}
	p.set |= setRedirect
	if len(d.Args) == 1 {
		switch d.Args[0] {
		case "off":
			p.RedirectOff = true
			p.Redirects = nil
		case "default":
			// The default rewrite, from the proxy_pass URL to the
			// location, is computed by the HTTP proxy.
			p.Redirects = append(p.Redirects, Redirect{From: "default"})
		default:
			return argError(d, 0, "invalid proxy_redirect %q: use default, off or FROM TO", d.Args[0])
		}
		return nil
	}
	if strings.HasPrefix(d.Args[0], "~") {
		if _, err := compileRegex(d.Args[0]); err != nil {
			return argError(d, 0, "%v", err)
		}
	}
	p.Redirects = append(p.Redirects, Redirect{From: d.Args[0], To: d.Args[1]})
	return nil
}

// compileRegex checks a "~re" or "~*re" argument as Go's regexp reads it.
func compileRegex(arg string) (string, error) {
	pat := strings.TrimPrefix(arg, "~")
	if strings.HasPrefix(pat, "*") {
		pat = "(?i)" + pat[1:]
	}
	if _, err := regexp.Compile(pat); err != nil {
		return "", fmt.Errorf("invalid regular expression %q: %v", arg, err)
	}
	return pat, nil
}
