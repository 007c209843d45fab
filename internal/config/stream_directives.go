package config

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"bunsan/internal/conf"
)

// streamDirectives are the stream module's rows of the directive table:
// nginx's ngx_stream_core, proxy, upstream (in upstream.go), access,
// limit_conn, log, map, realip, ssl_preread and ssl modules.
func streamDirectives() []*directive {
	all, srv := CtxStreamAll, CtxStreamServer
	return append(streamProxySSLDirectives(), []*directive{
		{name: "stream", ctx: CtxMain, block: true, handle: handleStream},
		{name: "server", ctx: CtxStream, block: true, repeat: true, handle: handleStreamServer},
		{name: "listen", ctx: srv, minArgs: 1, maxArgs: many, repeat: true, handle: handleStreamListen},
		{name: "proxy_pass", ctx: srv, minArgs: 1, maxArgs: 1, handle: handleStreamProxyPass},
		{name: "return", ctx: srv, minArgs: 1, maxArgs: 1, handle: handleStreamReturn},
		{name: "set", ctx: srv, minArgs: 2, maxArgs: 2, repeat: true, handle: handleStreamSet},
		{name: "proxy_connect_timeout", ctx: all, minArgs: 1, maxArgs: 1, handle: streamDuration(func(p *StreamProxy) *time.Duration { return &p.ConnectTimeout })},
		{name: "proxy_timeout", ctx: all, minArgs: 1, maxArgs: 1, handle: streamDuration(func(p *StreamProxy) *time.Duration { return &p.Timeout })},
		{name: "proxy_next_upstream", ctx: all, minArgs: 1, maxArgs: 1, handle: streamFlag(func(p *StreamProxy) *bool { return &p.NextUpstream })},
		{name: "proxy_next_upstream_tries", ctx: all, minArgs: 1, maxArgs: 1, handle: streamInt(0, func(p *StreamProxy) *int { return &p.NextTries })},
		{name: "proxy_next_upstream_timeout", ctx: all, minArgs: 1, maxArgs: 1, handle: streamDuration(func(p *StreamProxy) *time.Duration { return &p.NextTimeout })},
		{name: "proxy_buffer_size", ctx: all, minArgs: 1, maxArgs: 1, handle: streamSize(func(p *StreamProxy) *int64 { return &p.BufferSize })},
		{name: "proxy_download_rate", ctx: all, minArgs: 1, maxArgs: 1, handle: streamSize(func(p *StreamProxy) *int64 { return &p.DownloadRate })},
		{name: "proxy_upload_rate", ctx: all, minArgs: 1, maxArgs: 1, handle: streamSize(func(p *StreamProxy) *int64 { return &p.UploadRate })},
		{name: "proxy_bind", ctx: all, minArgs: 1, maxArgs: 2, handle: handleStreamBind},
		{name: "proxy_responses", ctx: all, minArgs: 1, maxArgs: 1, handle: streamInt(0, func(p *StreamProxy) *int { return &p.Responses })},
		{name: "proxy_requests", ctx: all, minArgs: 1, maxArgs: 1, handle: streamInt(0, func(p *StreamProxy) *int { return &p.Requests })},
		{name: "proxy_protocol", ctx: all, minArgs: 1, maxArgs: 1, handle: streamFlag(func(p *StreamProxy) *bool { return &p.ProxyProtocol })},
		{name: "proxy_socket_keepalive", ctx: all, minArgs: 1, maxArgs: 1, handle: streamFlag(func(p *StreamProxy) *bool { return &p.SocketKeepalive })},
		{name: "proxy_protocol_version", ctx: all, minArgs: 1, maxArgs: 1, handle: handleProxyProtocolVersion},
		{name: "proxy_half_close", ctx: all, minArgs: 1, maxArgs: 1, handle: streamFlag(func(p *StreamProxy) *bool { return &p.HalfClose })},
		{name: "ssl_preread", ctx: all, minArgs: 1, maxArgs: 1, handle: streamFlag(func(p *StreamProxy) *bool { return &p.SSLPreread })},
		{name: "preread_buffer_size", ctx: all, minArgs: 1, maxArgs: 1, handle: streamSize(func(p *StreamProxy) *int64 { return &p.PrereadBufferSize })},
		{name: "proxy_protocol_timeout", ctx: all, minArgs: 1, maxArgs: 1, handle: streamDuration(func(p *StreamProxy) *time.Duration { return &p.ProxyProtocolTimeout })},
		{name: "preread_timeout", ctx: all, minArgs: 1, maxArgs: 1, handle: streamDuration(func(p *StreamProxy) *time.Duration { return &p.PrereadTimeout })},
		{name: "set_real_ip_from", ctx: all, minArgs: 1, maxArgs: 1, repeat: true, handle: handleSetRealIPFrom},
		{name: "allow", ctx: all, minArgs: 1, maxArgs: 1, repeat: true, handle: handleAccess},
		{name: "deny", ctx: all, minArgs: 1, maxArgs: 1, repeat: true, handle: handleAccess},
		{name: "limit_conn_zone", ctx: CtxStream, minArgs: 2, maxArgs: 2, repeat: true, handle: handleLimitConnZone},
		{name: "limit_conn", ctx: all, minArgs: 2, maxArgs: 2, repeat: true, handle: handleLimitConn},
		{name: "log_format", ctx: CtxStream, minArgs: 2, maxArgs: many, repeat: true, handle: handleLogFormat},
		{name: "access_log", ctx: all, minArgs: 1, maxArgs: many, repeat: true, handle: handleStreamAccessLog},
		{name: "map", ctx: CtxStream, minArgs: 2, maxArgs: 2, block: true, repeat: true, handle: handleMap},
		{name: "ssl_certificate", ctx: all, minArgs: 1, maxArgs: 1, repeat: true, handle: handleStreamSSLFile},
		{name: "ssl_certificate_key", ctx: all, minArgs: 1, maxArgs: 1, repeat: true, handle: handleStreamSSLFile},
		{name: "ssl_protocols", ctx: all, minArgs: 1, maxArgs: many, handle: handleStreamSSLProtocols},
		ignoredRow("ssl_prefer_server_ciphers", all, 1, 1, "Go's TLS orders cipher suites itself"),
		ignoredRow("ssl_session_cache", all, 1, 2, "Go's TLS keeps session tickets itself"),
		ignoredRow("ssl_session_timeout", all, 1, 1, "Go's TLS keeps session tickets itself"),
		ignoredRow("ssl_ciphers", all, 1, 1, "Go's TLS chooses safe cipher suites itself"),
		ignoredRow("limit_conn_log_level", all, 1, 1, "refusals are logged at info level"),
		ignoredRow("tcp_nodelay", all, 1, 1, "bunsan always sets TCP_NODELAY, as Go does"),
		ignoredRow("error_log", all, 1, 2, "only the main-level error_log decides where bunsan logs"),
		ignoredRow("variables_hash_max_size", CtxStream, 1, 1, goTuning),
		ignoredRow("variables_hash_bucket_size", CtxStream, 1, 1, goTuning),
		ignoredRow("map_hash_max_size", CtxStream, 1, 1, goTuning),
		ignoredRow("map_hash_bucket_size", CtxStream, 1, 1, goTuning),
	}...)
}

func streamDuration(field func(*StreamProxy) *time.Duration) func(*loader, *scope, *conf.Directive) error {
	return func(l *loader, s *scope, d *conf.Directive) error {
		t, err := parseDuration(d.Args[0])
		if err != nil {
			return argError(d, 0, "%v", err)
		}
		*field(streamOf(s).proxy) = t
		return nil
	}
}

func streamSize(field func(*StreamProxy) *int64) func(*loader, *scope, *conf.Directive) error {
	return func(l *loader, s *scope, d *conf.Directive) error {
		n, err := parseSize(d.Args[0])
		if err != nil {
			return argError(d, 0, "%v", err)
		}
		*field(streamOf(s).proxy) = n
		return nil
	}
}

func streamFlag(field func(*StreamProxy) *bool) func(*loader, *scope, *conf.Directive) error {
	return func(l *loader, s *scope, d *conf.Directive) error {
		on, err := parseFlag(d.Args[0])
		if err != nil {
			return argError(d, 0, "%v", err)
		}
		*field(streamOf(s).proxy) = on
		return nil
	}
}

func streamInt(minV int, field func(*StreamProxy) *int) func(*loader, *scope, *conf.Directive) error {
	return func(l *loader, s *scope, d *conf.Directive) error {
		n, err := strconv.Atoi(d.Args[0])
		if err != nil || n < minV {
			return argError(d, 0, "invalid value %q: %s takes a whole number of at least %d", d.Args[0], d.Name, minV)
		}
		*field(streamOf(s).proxy) = n
		return nil
	}
}

// handleStreamBind reads "proxy_bind ADDRESS [transparent] | off".
func handleStreamBind(l *loader, s *scope, d *conf.Directive) error {
	p := streamOf(s).proxy
	if d.Args[0] == "off" {
		p.Bind = ""
		return nil
	}
	if len(d.Args) == 2 {
		return argError(d, 1, "%q is not supported: bunsan binds to a local address only (transparent proxying needs privileges it does not take)", d.Args[1])
	}
	a := d.Args[0]
	if ip := net.ParseIP(a); ip == nil {
		if _, err := netip.ParseAddrPort(a); err != nil {
			return argError(d, 0, "invalid address %q: proxy_bind takes an IP address (optionally with a port) or off", a)
		}
	}
	p.Bind = a
	return nil
}

func handleSetRealIPFrom(l *loader, s *scope, d *conf.Directive) error {
	ss := streamOf(s)
	pfx, err := parseAddrPrefix(d.Args[0])
	if err != nil {
		return argError(d, 0, "%v", err)
	}
	if ss.fresh(d.Name) {
		ss.proxy.RealIPFrom = nil
	}
	ss.proxy.RealIPFrom = append(ss.proxy.RealIPFrom, pfx)
	return nil
}

func handleAccess(l *loader, s *scope, d *conf.Directive) error {
	ss := streamOf(s)
	r, err := parseAccessRule(d)
	if err != nil {
		return err
	}
	// allow and deny form one list, replaced as a whole at a new level.
	if ss.fresh("allow/deny") {
		ss.proxy.Access = nil
	}
	ss.proxy.Access = append(ss.proxy.Access, r)
	return nil
}

func handleLimitConnZone(l *loader, s *scope, d *conf.Directive) error {
	st := l.m.Stream
	z := &ConnZone{Pos: toPos(d.Pos), Key: d.Args[0]}
	v, ok := strings.CutPrefix(d.Args[1], "zone=")
	name, size, hasSize := strings.Cut(v, ":")
	if !ok || name == "" || !hasSize {
		return argError(d, 1, "invalid %q: write zone=NAME:SIZE, e.g. zone=addr:10m", d.Args[1])
	}
	n, err := parseSize(size)
	if err != nil {
		return argError(d, 1, "%v", err)
	}
	z.Name, z.Size = name, n
	if st.Zones[name] != nil {
		return argError(d, 1, "duplicate zone %q", name)
	}
	st.Zones[name] = z
	return nil
}

func handleLimitConn(l *loader, s *scope, d *conf.Directive) error {
	ss := streamOf(s)
	n, err := strconv.Atoi(d.Args[1])
	if err != nil || n < 1 {
		return argError(d, 1, "invalid number of connections %q: it must be at least 1", d.Args[1])
	}
	if ss.fresh(d.Name) {
		ss.proxy.LimitConn = nil
	}
	ss.proxy.LimitConn = append(ss.proxy.LimitConn, LimitConn{Zone: d.Args[0], Max: n})
	return nil
}

func handleLogFormat(l *loader, s *scope, d *conf.Directive) error {
	st := l.m.Stream
	args := d.Args[1:]
	if v, ok := strings.CutPrefix(args[0], "escape="); ok {
		switch v {
		case "default", "json", "none":
		default:
			return argError(d, 1, "invalid escape %q: use default, json or none", v)
		}
		args = args[1:]
		if len(args) == 0 {
			return fmt.Errorf("log_format %q has no format string", d.Args[0])
		}
	}
	if _, dup := st.LogFormats[d.Args[0]]; dup {
		return argError(d, 0, "duplicate log_format name %q", d.Args[0])
	}
	var b []byte
	for _, a := range args {
		b = append(b, a...)
	}
	st.LogFormats[d.Args[0]] = string(b)
	return nil
}

func handleStreamAccessLog(l *loader, s *scope, d *conf.Directive) error {
	ss := streamOf(s)
	if ss.fresh(d.Name) {
		ss.proxy.AccessLogs, ss.proxy.AccessLogOff = nil, false
	}
	if d.Args[0] == "off" {
		ss.proxy.AccessLogOff = true
		return nil
	}
	if len(d.Args) < 2 {
		return fmt.Errorf("access_log in stream needs a format: write access_log %s basic; (stream has no default format)", d.Args[0])
	}
	al := AccessLog{Path: l.prefixPath(d.Args[0]), Format: d.Args[1]}
	for i, a := range d.Args[2:] {
		if cond, ok := strings.CutPrefix(a, "if="); ok {
			if cond == "" {
				return argError(d, i+2, "if= needs a condition, e.g. if=$loggable")
			}
			al.If = cond
		}
		// buffer=, flush=, gzip: accepted; bunsan writes each line at once.
	}
	ss.proxy.AccessLogs = append(ss.proxy.AccessLogs, al)
	return nil
}

// handleProxyProtocolVersion reads proxy_protocol_version 1|2, a bunsan
// extension: nginx sends version 1 only.
func handleProxyProtocolVersion(l *loader, s *scope, d *conf.Directive) error {
	switch d.Args[0] {
	case "1":
		streamOf(s).proxy.ProxyProtocolVersion = 1
	case "2":
		streamOf(s).proxy.ProxyProtocolVersion = 2
	default:
		return argError(d, 0, "invalid PROXY protocol version %q: use 1 (nginx's) or 2 (binary)", d.Args[0])
	}
	return nil
}

// handleStreamReturn reads "return VALUE;" (ngx_stream_return_module).
func handleStreamReturn(l *loader, s *scope, d *conf.Directive) error {
	v := d.Args[0]
	streamOf(s).proxy.Return = &v
	return nil
}

// handleStreamSet reads "set $name value;" (ngx_stream_set_module).
func handleStreamSet(l *loader, s *scope, d *conf.Directive) error {
	name := d.Args[0]
	if len(name) < 2 || name[0] != '$' {
		return argError(d, 0, "invalid variable name %q: write set $name value;", name)
	}
	for _, v := range StreamVariables {
		if v == name[1:] {
			return argError(d, 0, "%q is a built-in variable and cannot be set", name)
		}
	}
	p := streamOf(s).proxy
	p.Sets = append(p.Sets, StreamSet{Var: name[1:], Value: d.Args[1]})
	return nil
}
