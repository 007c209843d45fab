package config

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"bunsan/internal/conf"
)

const goTuning = "Go's runtime and bunsan's own buffers replace this nginx tuning"

func httpDirectives() []*directive {
	return append([]*directive{
		{name: "server", ctx: CtxHTTP, block: true, repeat: true, handle: handleServer},
		{name: "listen", ctx: CtxServer, minArgs: 1, maxArgs: many, repeat: true, handle: handleListen},
		{name: "server_name", ctx: CtxServer, minArgs: 1, maxArgs: many, repeat: true, handle: handleServerName},
		{name: "location", ctx: CtxServer | CtxLocation, minArgs: 1, maxArgs: 2, block: true, repeat: true, handle: handleLocation},
		{name: "return", ctx: CtxServer | CtxLocation | CtxIf, minArgs: 1, maxArgs: 2, handle: handleReturn},
		{name: "types", ctx: CtxHTTPAll, block: true,
			ignored: "bunsan passes the backend's Content-Type through and serves no files"},
		{name: "default_type", ctx: CtxHTTPAll, minArgs: 1, maxArgs: 1,
			ignored: "bunsan passes the backend's Content-Type through and serves no files"},
		{name: "gzip", ctx: CtxHTTPAll, minArgs: 1, maxArgs: 1,
			warn: "compression is not implemented yet; responses pass through as the backend sent them"},
		ignoredRow("gzip_vary", CtxHTTPAll, 1, 1, "compression is not implemented yet"),
		ignoredRow("gzip_proxied", CtxHTTPAll, 1, many, "compression is not implemented yet"),
		ignoredRow("gzip_comp_level", CtxHTTPAll, 1, 1, "compression is not implemented yet"),
		ignoredRow("gzip_buffers", CtxHTTPAll, 2, 2, "compression is not implemented yet"),
		ignoredRow("gzip_http_version", CtxHTTPAll, 1, 1, "compression is not implemented yet"),
		ignoredRow("gzip_types", CtxHTTPAll, 1, many, "compression is not implemented yet"),
		ignoredRow("server_tokens", CtxHTTPAll, 1, 1, "bunsan never names its version in responses"),
		ignoredRow("sendfile", CtxHTTPAll, 1, 1, goTuning),
		ignoredRow("tcp_nopush", CtxHTTPAll, 1, 1, goTuning),
		ignoredRow("tcp_nodelay", CtxHTTPAll, 1, 1, "bunsan always sets TCP_NODELAY, as Go does"),
		ignoredRow("types_hash_max_size", CtxHTTPAll, 1, 1, goTuning),
		ignoredRow("types_hash_bucket_size", CtxHTTPAll, 1, 1, goTuning),
		ignoredRow("server_names_hash_max_size", CtxHTTP, 1, 1, goTuning),
		ignoredRow("server_names_hash_bucket_size", CtxHTTP, 1, 1, goTuning),
		ignoredRow("variables_hash_max_size", CtxHTTP, 1, 1, goTuning),
		ignoredRow("variables_hash_bucket_size", CtxHTTP, 1, 1, goTuning),
	}, httpMoreDirectives()...)
}

func handleHTTP(l *loader, s *scope, d *conf.Directive) error {
	if l.http != nil {
		return fmt.Errorf("\"http\" directive is duplicate: merge the two http blocks into one")
	}
	l.http = &HTTP{}
	l.m.HTTP = l.http
	l.httpProxy = defaultProxy()
	l.httpSettings = defaultSettings()
	l.block(&scope{ctx: CtxHTTP, proxy: &l.httpProxy, set: &l.httpSettings}, d.Block)
	return nil
}

func handleServer(l *loader, s *scope, d *conf.Directive) error {
	if len(d.Args) > 0 {
		return fmt.Errorf("invalid number of arguments in \"server\" directive: a server block takes none (names go in server_name)")
	}
	srv := &Server{Pos: toPos(d.Pos)}
	l.http.Servers = append(l.http.Servers, srv)
	l.block(&scope{ctx: CtxServer, srv: srv, proxy: &srv.Proxy, set: &srv.Settings}, d.Block)
	if len(srv.Listens) == 0 {
		// nginx listens on *:80 when root, *:8000 otherwise; bunsan
		// follows the root case, which is how nginx is normally run.
		srv.Listens = []Listen{{Pos: srv.Pos, Addr: ":80"}}
	}
	return nil
}

func handleListen(l *loader, s *scope, d *conf.Directive) error {
	addr, err := listenAddr(d.Args[0])
	if err != nil {
		return argError(d, 0, "%v", err)
	}
	ln := Listen{Pos: toPos(d.Pos), Addr: addr}
	for i, a := range d.Args[1:] {
		if ok, err := socketParam(a, &ln.Socket, true); ok {
			if err != nil {
				return argError(d, i+1, "%v", err)
			}
			continue
		}
		switch a {
		case "default_server", "default":
			ln.DefaultServer = true
		case "ssl":
			ln.SSL = true
		case "http2":
			ln.HTTP2 = true
		default:
			return argError(d, i+1, "invalid parameter %q in listen: supported are default_server, ssl, http2, reuseport, backlog=, rcvbuf=, sndbuf=, deferred, fastopen=, so_keepalive=, ipv6only= and bind", a)
		}
	}
	s.srv.Listens = append(s.srv.Listens, ln)
	return nil
}

// listenAddr normalises nginx's listen forms: "80", "127.0.0.1:80",
// "127.0.0.1" (port 80), "[::]:80", "*:80", "localhost:80".
func listenAddr(a string) (string, error) {
	if strings.HasPrefix(a, "unix:") {
		return "", fmt.Errorf("unix-socket listeners (%q) are not supported yet; listen on a TCP port", a)
	}
	if n, err := strconv.Atoi(a); err == nil {
		if n < 1 || n > 65535 {
			return "", fmt.Errorf("invalid port %q in listen: it must be 1 to 65535", a)
		}
		return ":" + a, nil
	}
	host, port, err := net.SplitHostPort(a)
	if err != nil {
		// A bare address listens on port 80.
		if strings.HasPrefix(a, "[") && strings.HasSuffix(a, "]") {
			return a + ":80", nil
		}
		if net.ParseIP(a) != nil || !strings.Contains(a, ":") {
			return net.JoinHostPort(a, "80"), nil
		}
		return "", fmt.Errorf("invalid listen address %q: write PORT, ADDRESS:PORT or [IPv6]:PORT", a)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("invalid port %q in %q: it must be 1 to 65535", port, a)
	}
	if host == "*" {
		host = ""
	}
	return net.JoinHostPort(host, port), nil
}

func handleServerName(l *loader, s *scope, d *conf.Directive) error {
	for i, n := range d.Args {
		if strings.HasPrefix(n, "~") {
			// Compiled by the HTTP proxy, which owns regex captures; the
			// pattern keeps its case.
			if _, err := regexp.Compile(n[1:]); err != nil {
				return argError(d, i, "invalid server_name regex %q: %v", n, err)
			}
			s.srv.Names = append(s.srv.Names, n)
			continue
		}
		if strings.Contains(n, "*") && !strings.HasPrefix(n, "*.") && !strings.HasSuffix(n, ".*") && n != "*" {
			return argError(d, i, "invalid server name %q: a wildcard may only stand at the start (*.example.com) or the end (www.example.*)", n)
		}
		s.srv.Names = append(s.srv.Names, strings.ToLower(n))
	}
	return nil
}

func handleLocation(l *loader, s *scope, d *conf.Directive) error {
	loc := &Location{Pos: toPos(d.Pos), Proxy: Proxy{}}
	switch len(d.Args) {
	case 1:
		p := d.Args[0]
		switch {
		case strings.HasPrefix(p, "@"):
			loc.Modifier, loc.Path = LocNamed, p[1:]
		case strings.HasPrefix(p, "="):
			loc.Modifier, loc.Path = LocExact, p[1:]
		case strings.HasPrefix(p, "^~"):
			loc.Modifier, loc.Path = LocNoRegex, p[2:]
		case strings.HasPrefix(p, "~*"):
			loc.Modifier, loc.Path = LocRegexCI, p[2:]
		case strings.HasPrefix(p, "~"):
			loc.Modifier, loc.Path = LocRegex, p[1:]
		default:
			loc.Path = p
		}
	case 2:
		switch d.Args[0] {
		case "=", "^~", "~", "~*":
			loc.Modifier, loc.Path = d.Args[0], d.Args[1]
		default:
			return argError(d, 0, "invalid location modifier %q: use =, ^~, ~ or ~*", d.Args[0])
		}
	}
	if loc.Path == "" && loc.Modifier != LocExact {
		return argError(d, 0, "location needs a path, e.g. location / { ... }")
	}
	if loc.Modifier == LocNamed && s.loc != nil {
		return fmt.Errorf("named location \"@%s\" must be at server level, not inside another location", loc.Path)
	}
	if s.loc != nil && s.loc.Modifier == LocExact {
		return fmt.Errorf("location %q cannot be inside the exact location \"= %s\"", d.Args[len(d.Args)-1], s.loc.Path)
	}
	if s.loc != nil {
		s.loc.Locations = append(s.loc.Locations, loc)
	} else {
		s.srv.Locations = append(s.srv.Locations, loc)
	}
	l.block(&scope{ctx: CtxLocation, srv: s.srv, loc: loc, proxy: &loc.Proxy, set: &loc.Settings}, d.Block)
	return nil
}

func handleReturn(l *loader, s *scope, d *conf.Directive) error {
	r := &Return{}
	code, err := strconv.Atoi(d.Args[0])
	switch {
	case err != nil && len(d.Args) == 1 && (strings.HasPrefix(d.Args[0], "http://") ||
		strings.HasPrefix(d.Args[0], "https://") || strings.HasPrefix(d.Args[0], "$scheme")):
		r.Code, r.Text = 302, d.Args[0]
	case err != nil || code < 0 || code > 999:
		return argError(d, 0, "invalid return code %q: write return CODE [TEXT|URL] or return URL", d.Args[0])
	default:
		r.Code = code
		if len(d.Args) == 2 {
			r.Text = d.Args[1]
		}
	}
	if s.ifb != nil {
		s.ifb.Return = r
		return nil
	}
	if s.loc != nil {
		s.loc.Return = r
	} else {
		// A server-level return runs in the server's rewrite phase,
		// before any location is chosen, as in nginx: it answers every
		// request of the server that reaches it.
		s.srv.Rewrite = append(s.srv.Rewrite, RewriteOp{Return: r})
	}
	return nil
}

// plainErr drops the "stat /path:" prefix that the message already says.
func plainErr(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		return msg[i+2:]
	}
	return msg
}

// parseProxyPass splits a proxy_pass URL: scheme, host and optional URI.
func parseProxyPass(raw string) (*ProxyPass, error) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return nil, fmt.Errorf("invalid URL prefix in %q: proxy_pass needs a scheme; write \"proxy_pass http://%s;\"", raw, raw)
	}
	if scheme != "http" && scheme != "https" {
		return nil, fmt.Errorf("invalid URL prefix in %q: the scheme must be http:// or https://", raw)
	}
	pp := &ProxyPass{Raw: raw, Scheme: scheme}
	host := rest
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		host, pp.URI, pp.HasURI = rest[:i], rest[i:], true
	}
	if host == "" {
		return nil, fmt.Errorf("no host in %q: write proxy_pass http://HOST[:PORT] or http://UPSTREAM_NAME", raw)
	}
	if strings.HasPrefix(host, "unix:") {
		return nil, fmt.Errorf("unix-socket backends (%q) are not supported yet", raw)
	}
	if _, err := url.Parse(scheme + "://" + host); err != nil && !strings.Contains(host, "$") {
		return nil, fmt.Errorf("invalid host in %q: %v", raw, err)
	}
	pp.Host = host
	return pp, nil
}

// splitHostPort returns host and port, defaulting the port by scheme.
func splitHostPort(hostport, defPort string) (string, string, error) {
	if h, p, err := net.SplitHostPort(hostport); err == nil {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "", "", fmt.Errorf("invalid port %q in %q", p, hostport)
		}
		return h, p, nil
	}
	if strings.Count(hostport, ":") > 1 && !strings.HasPrefix(hostport, "[") {
		return "", "", fmt.Errorf("invalid address %q: put IPv6 addresses in brackets, e.g. [::1]:8080", hostport)
	}
	if strings.HasSuffix(hostport, ":") {
		return "", "", fmt.Errorf("invalid address %q: the port is missing after \":\"", hostport)
	}
	return strings.Trim(hostport, "[]"), defPort, nil
}
