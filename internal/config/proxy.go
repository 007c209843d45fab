package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"bunsan/internal/conf"
)

// Proxy is the proxy_* settings in effect at one level, already merged
// with the levels above it.
type Proxy struct {
	Pass           *ProxyPass
	HTTPVersion    string
	SetHeaders     []Header
	ConnectTimeout time.Duration
	ReadTimeout    time.Duration
	SendTimeout    time.Duration
	BufferSize     int64
	Buffers        Buffers
	BusyBuffers    int64
	Buffering      bool
	NextUpstream   NextUpstream
	NextTries      int
	NextTimeout    time.Duration
	ClientMaxBody  int64
	// HideHeaders and PassHeaders adjust nginx's list of backend
	// response headers not passed to the client.
	HideHeaders        []string
	PassHeaders        []string
	PassRequestHeaders bool
	InterceptErrors    bool
	RequestBuffering   bool
	// Redirect is proxy_redirect: "default" (nil Redirects, Off false),
	// "off", or FROM TO pairs.
	RedirectOff bool
	Redirects   []Redirect
	// ExplainHeader, when set, names a response header that says why the
	// balancer chose the server ("upstream_explain_header", bunsan's own).
	ExplainHeader string

	// set records which fields were written at this level, so that
	// merging inherits only what was not.
	set proxySet
}

// Header is one proxy_set_header.
type Header struct {
	Name, Value string
}

// Buffers is proxy_buffers NUMBER SIZE.
type Buffers struct {
	Number int
	Size   int64
}

// NextUpstream is the set of proxy_next_upstream conditions.
type NextUpstream struct {
	Error, Timeout, InvalidHeader, NonIdempotent bool
	HTTPStatus                                   []int
	Off                                          bool
}

// proxySet has a bit per Proxy field that can be written at a level.
type proxySet uint32

const (
	setHTTPVersion proxySet = 1 << iota
	setHeaders
	setConnectTimeout
	setReadTimeout
	setSendTimeout
	setBufferSize
	setBuffers
	setBusyBuffers
	setBuffering
	setNextUpstream
	setNextTries
	setNextTimeout
	setClientMaxBody
	setHideHeaders
	setPassHeaders
	setPassRequestHeaders
	setInterceptErrors
	setRequestBuffering
	setRedirect
	setExplainHeader
)

// defaultProxy is nginx's defaults, as of the current release: HTTP/1.1
// to backends since 1.29.7 (1.22 used 1.0), buffers of one memory page.
func defaultProxy() Proxy {
	return Proxy{
		HTTPVersion:    "1.1",
		ConnectTimeout: 60 * time.Second,
		ReadTimeout:    60 * time.Second,
		SendTimeout:    60 * time.Second,
		BufferSize:     4 << 10,
		Buffers:        Buffers{Number: 8, Size: 4 << 10},
		BusyBuffers:    8 << 10,
		Buffering:      true,
		NextUpstream:   NextUpstream{Error: true, Timeout: true},
		ClientMaxBody:  1 << 20,

		PassRequestHeaders: true,
		RequestBuffering:   true,
	}
}

func proxyDirectives() []*directive {
	loc := CtxLocation | CtxIf | CtxLimitExcept
	all := CtxHTTPAll
	return append([]*directive{
		{name: "proxy_pass", ctx: loc, minArgs: 1, maxArgs: 1, handle: handleProxyPass,
			hint: "proxy_pass goes in a location"},
		{name: "proxy_http_version", ctx: all, minArgs: 1, maxArgs: 1, handle: handleProxyHTTPVersion},
		{name: "proxy_set_header", ctx: all, minArgs: 2, maxArgs: 2, repeat: true, handle: handleProxySetHeader},
		{name: "proxy_connect_timeout", ctx: all, minArgs: 1, maxArgs: 1, handle: durationSetter(setConnectTimeout, func(p *Proxy) *time.Duration { return &p.ConnectTimeout })},
		{name: "proxy_read_timeout", ctx: all, minArgs: 1, maxArgs: 1, handle: durationSetter(setReadTimeout, func(p *Proxy) *time.Duration { return &p.ReadTimeout })},
		{name: "proxy_send_timeout", ctx: all, minArgs: 1, maxArgs: 1, handle: durationSetter(setSendTimeout, func(p *Proxy) *time.Duration { return &p.SendTimeout })},
		{name: "proxy_next_upstream_timeout", ctx: all, minArgs: 1, maxArgs: 1, handle: durationSetter(setNextTimeout, func(p *Proxy) *time.Duration { return &p.NextTimeout })},
		{name: "proxy_buffer_size", ctx: all, minArgs: 1, maxArgs: 1, handle: sizeSetter(setBufferSize, func(p *Proxy) *int64 { return &p.BufferSize })},
		{name: "proxy_busy_buffers_size", ctx: all, minArgs: 1, maxArgs: 1, handle: sizeSetter(setBusyBuffers, func(p *Proxy) *int64 { return &p.BusyBuffers })},
		{name: "client_max_body_size", ctx: all, minArgs: 1, maxArgs: 1, handle: sizeSetter(setClientMaxBody, func(p *Proxy) *int64 { return &p.ClientMaxBody })},
		{name: "proxy_buffers", ctx: all, minArgs: 2, maxArgs: 2, handle: handleProxyBuffers},
		{name: "proxy_buffering", ctx: all, minArgs: 1, maxArgs: 1, handle: handleProxyBuffering},
		{name: "proxy_next_upstream", ctx: all, minArgs: 1, maxArgs: many, handle: handleNextUpstream},
		{name: "proxy_next_upstream_tries", ctx: all, minArgs: 1, maxArgs: 1, handle: handleNextTries},
		{name: "upstream_explain_header", ctx: all, minArgs: 1, maxArgs: 1, handle: handleExplainHeader},
	}, proxyMoreDirectives()...)
}

func handleProxyPass(l *loader, s *scope, d *conf.Directive) error {
	if s.loc == nil {
		return fmt.Errorf("\"proxy_pass\" directive is not allowed here")
	}
	if s.loc.Proxy.Pass != nil {
		return fmt.Errorf("\"proxy_pass\" directive is duplicate: a location proxies to one place")
	}
	pp, err := parseProxyPass(d.Args[0])
	if err != nil {
		return argError(d, 0, "%v", err)
	}
	if pp.HasURI && (s.loc.Modifier == LocRegex || s.loc.Modifier == LocRegexCI || s.loc.Modifier == LocNamed) {
		return argError(d, 0, "\"proxy_pass\" cannot have URI part in location given by regular expression, or inside named location; drop %q from %q", pp.URI, pp.Raw)
	}
	pp.Pos = toPos(d.Pos)
	s.loc.Proxy.Pass = pp
	return nil
}

func handleProxyHTTPVersion(l *loader, s *scope, d *conf.Directive) error {
	switch d.Args[0] {
	case "1.0", "1.1":
	case "2":
		l.m.Warnings = append(l.m.Warnings, Diag{Pos: toPos(d.Pos), Msg: "proxy_http_version 2 is not supported yet; HTTP/1.1 is used to the backend"})
		d.Args[0] = "1.1"
	default:
		return argError(d, 0, "invalid value %q: proxy_http_version is 1.0, 1.1 or 2", d.Args[0])
	}
	s.proxy.HTTPVersion = d.Args[0]
	s.proxy.set |= setHTTPVersion
	return nil
}

func handleProxySetHeader(l *loader, s *scope, d *conf.Directive) error {
	name := d.Args[0]
	if name == "" || strings.ContainsAny(name, " \t:\r\n") {
		return argError(d, 0, "invalid header name %q", name)
	}
	s.proxy.SetHeaders = append(s.proxy.SetHeaders, Header{Name: name, Value: d.Args[1]})
	s.proxy.set |= setHeaders
	return nil
}

func durationSetter(bit proxySet, field func(*Proxy) *time.Duration) func(*loader, *scope, *conf.Directive) error {
	return func(l *loader, s *scope, d *conf.Directive) error {
		t, err := parseDuration(d.Args[0])
		if err != nil {
			return argError(d, 0, "%v", err)
		}
		*field(s.proxy) = t
		s.proxy.set |= bit
		return nil
	}
}

func sizeSetter(bit proxySet, field func(*Proxy) *int64) func(*loader, *scope, *conf.Directive) error {
	return func(l *loader, s *scope, d *conf.Directive) error {
		n, err := parseSize(d.Args[0])
		if err != nil {
			return argError(d, 0, "%v", err)
		}
		*field(s.proxy) = n
		s.proxy.set |= bit
		return nil
	}
}

func handleProxyBuffers(l *loader, s *scope, d *conf.Directive) error {
	n, err := strconv.Atoi(d.Args[0])
	if err != nil || n < 2 {
		return argError(d, 0, "invalid number of buffers %q: write proxy_buffers NUMBER SIZE with NUMBER of at least 2", d.Args[0])
	}
	size, err := parseSize(d.Args[1])
	if err != nil || size == 0 {
		return argError(d, 1, "invalid buffer size %q: write e.g. proxy_buffers 8 4k", d.Args[1])
	}
	s.proxy.Buffers = Buffers{Number: n, Size: size}
	s.proxy.set |= setBuffers
	return nil
}

func handleProxyBuffering(l *loader, s *scope, d *conf.Directive) error {
	on, err := parseFlag(d.Args[0])
	if err != nil {
		return argError(d, 0, "%v", err)
	}
	s.proxy.Buffering = on
	s.proxy.set |= setBuffering
	return nil
}

func handleNextUpstream(l *loader, s *scope, d *conf.Directive) error {
	var nu NextUpstream
	for i, a := range d.Args {
		switch a {
		case "error":
			nu.Error = true
		case "timeout":
			nu.Timeout = true
		case "invalid_header":
			nu.InvalidHeader = true
		case "non_idempotent":
			nu.NonIdempotent = true
		case "off":
			nu.Off = true
		case "http_500", "http_502", "http_503", "http_504", "http_403", "http_404", "http_429":
			code, _ := strconv.Atoi(a[5:])
			nu.HTTPStatus = append(nu.HTTPStatus, code)
		case "updating":
			// nginx accepts it for caching; harmless without a cache.
		default:
			return argError(d, i, "invalid value %q in proxy_next_upstream: use error, timeout, invalid_header, http_500, http_502, http_503, http_504, http_403, http_404, http_429, non_idempotent or off", a)
		}
	}
	if nu.Off && len(d.Args) > 1 {
		return argError(d, 0, "\"off\" in proxy_next_upstream cannot be combined with other values")
	}
	s.proxy.NextUpstream = nu
	s.proxy.set |= setNextUpstream
	return nil
}

func handleNextTries(l *loader, s *scope, d *conf.Directive) error {
	n, err := strconv.Atoi(d.Args[0])
	if err != nil || n < 0 {
		return argError(d, 0, "invalid number %q: proxy_next_upstream_tries takes a whole number (0 = no limit)", d.Args[0])
	}
	s.proxy.NextTries = n
	s.proxy.set |= setNextTries
	return nil
}

// merge fills the fields of child that were not written at its level from
// parent, as nginx's merge_loc_conf does. proxy_pass is not inherited.
func merge(child *Proxy, parent *Proxy) {
	inherit := func(bit proxySet, copyField func()) {
		if child.set&bit == 0 {
			copyField()
		}
	}
	inherit(setHTTPVersion, func() { child.HTTPVersion = parent.HTTPVersion })
	// proxy_set_header is inherited only when none is set at this level.
	inherit(setHeaders, func() { child.SetHeaders = parent.SetHeaders })
	inherit(setConnectTimeout, func() { child.ConnectTimeout = parent.ConnectTimeout })
	inherit(setReadTimeout, func() { child.ReadTimeout = parent.ReadTimeout })
	inherit(setSendTimeout, func() { child.SendTimeout = parent.SendTimeout })
	inherit(setBufferSize, func() { child.BufferSize = parent.BufferSize })
	inherit(setBuffers, func() { child.Buffers = parent.Buffers })
	inherit(setBusyBuffers, func() { child.BusyBuffers = parent.BusyBuffers })
	inherit(setBuffering, func() { child.Buffering = parent.Buffering })
	inherit(setNextUpstream, func() { child.NextUpstream = parent.NextUpstream })
	inherit(setNextTries, func() { child.NextTries = parent.NextTries })
	inherit(setNextTimeout, func() { child.NextTimeout = parent.NextTimeout })
	inherit(setClientMaxBody, func() { child.ClientMaxBody = parent.ClientMaxBody })
	inherit(setHideHeaders, func() { child.HideHeaders = parent.HideHeaders })
	inherit(setExplainHeader, func() { child.ExplainHeader = parent.ExplainHeader })
	inherit(setPassHeaders, func() { child.PassHeaders = parent.PassHeaders })
	inherit(setPassRequestHeaders, func() { child.PassRequestHeaders = parent.PassRequestHeaders })
	inherit(setInterceptErrors, func() { child.InterceptErrors = parent.InterceptErrors })
	inherit(setRequestBuffering, func() { child.RequestBuffering = parent.RequestBuffering })
	inherit(setRedirect, func() { child.RedirectOff, child.Redirects = parent.RedirectOff, parent.Redirects })
	child.set |= parent.set
}

// checkBuffers applies nginx's rules relating the three buffer sizes.
func checkBuffers(p *Proxy) string {
	if p.BusyBuffers < max(p.BufferSize, p.Buffers.Size) {
		return "\"proxy_busy_buffers_size\" must be equal to or greater than the maximum of the value of \"proxy_buffer_size\" and one of the \"proxy_buffers\""
	}
	if p.BusyBuffers > int64(p.Buffers.Number-1)*p.Buffers.Size {
		return "\"proxy_busy_buffers_size\" must be less than the size of all \"proxy_buffers\" minus one buffer"
	}
	return ""
}

// handleExplainHeader is "upstream_explain_header NAME|off": a response
// header that tells the client why the balancer chose the server.
func handleExplainHeader(l *loader, s *scope, d *conf.Directive) error {
	name := d.Args[0]
	if name == "off" {
		name = ""
	} else if strings.ContainsAny(name, " \t:\r\n") {
		return argError(d, 0, "invalid header name %q", name)
	}
	s.proxy.ExplainHeader = name
	s.proxy.set |= setExplainHeader
	return nil
}
