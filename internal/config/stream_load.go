package config

import (
	"fmt"
	"strings"

	"bunsan/internal/conf"
)

// streamScope is a stream or stream server block being read: the
// settings its directives fill, and which list-valued directives were
// already written at this level (the first one written replaces the
// inherited list, as nginx's merge does for arrays).
type streamScope struct {
	proxy   *StreamProxy
	srv     *StreamServer // nil at stream level
	written map[string]bool
}

// fresh reports whether the list directive name is written here for the
// first time, and records it.
func (ss *streamScope) fresh(name string) bool {
	if ss.written[name] {
		return false
	}
	ss.written[name] = true
	return true
}

func streamOf(s *scope) *streamScope { return s.ups.stream }

func handleStream(l *loader, s *scope, d *conf.Directive) error {
	if l.m.Stream != nil {
		return fmt.Errorf("\"stream\" directive is duplicate: merge the two stream blocks into one")
	}
	st := &Stream{LogFormats: map[string]string{}, Zones: map[string]*ConnZone{}, Proxy: defaultStreamProxy(), hashPos: map[string]Pos{}}
	l.m.Stream = st
	top := &streamScope{proxy: &st.Proxy, written: map[string]bool{}}
	// Two passes, so that servers inherit every stream-level setting
	// whether it is written before or after them (nginx merges after
	// reading the whole block): first everything but servers, then each
	// server starting from a copy of the stream level.
	var servers, rest []*conf.Directive
	for _, c := range d.Block {
		if c.Name == "server" {
			servers = append(servers, c)
		} else {
			rest = append(rest, c)
		}
	}
	l.block(&scope{ctx: CtxStream, ups: &upstreamScope{stream: top}}, rest)
	l.block(&scope{ctx: CtxStream, ups: &upstreamScope{stream: top}}, servers)
	if _, ok := st.LogFormats["basic"]; !ok {
		st.LogFormats["basic"] = `$remote_addr [$time_local] $protocol $status $bytes_sent $bytes_received $session_time`
	}
	l.finishStream(st)
	return nil
}

func handleStreamServer(l *loader, s *scope, d *conf.Directive) error {
	if len(d.Args) > 0 {
		return fmt.Errorf("invalid number of arguments in \"server\" directive: a stream server block takes none")
	}
	st := l.m.Stream
	srv := &StreamServer{Pos: toPos(d.Pos), Proxy: st.Proxy}
	st.Servers = append(st.Servers, srv)
	ss := &streamScope{proxy: &srv.Proxy, srv: srv, written: map[string]bool{}}
	before := len(l.errs)
	l.block(&scope{ctx: CtxStreamServer, ups: &upstreamScope{stream: ss}}, d.Block)
	srv.broken = len(l.errs) > before
	return nil
}

func handleStreamListen(l *loader, s *scope, d *conf.Directive) error {
	addr, err := listenAddr(d.Args[0])
	if err != nil {
		return argError(d, 0, "%v", err)
	}
	ln := StreamListen{Pos: toPos(d.Pos), Addr: addr}
	for i, a := range d.Args[1:] {
		if ok, err := socketParam(a, &ln.Socket, false); ok {
			if err != nil {
				return argError(d, i+1, "%v", err)
			}
			continue
		}
		switch a {
		case "udp":
			ln.UDP = true
		case "ssl":
			ln.SSL = true
		case "proxy_protocol":
			ln.ProxyProtocol = true
		default:
			return argError(d, i+1, "invalid parameter %q in listen: a stream listen takes udp, ssl, proxy_protocol, reuseport, backlog=, rcvbuf=, sndbuf=, fastopen=, so_keepalive=, ipv6only= and bind", a)
		}
	}
	if ln.UDP {
		// As nginx: these belong to TCP.
		for _, c := range []struct {
			set  bool
			name string
		}{{ln.SSL, "ssl"}, {ln.ProxyProtocol, "proxy_protocol"}, {ln.Backlog > 0, "backlog"}, {ln.KeepAlive != nil, "so_keepalive"}, {ln.FastOpen > 0, "fastopen"}} {
			if c.set {
				return fmt.Errorf("\"%s\" parameter is incompatible with \"udp\": remove one of them", c.name)
			}
		}
	}
	srv := streamOf(s).srv
	srv.Listens = append(srv.Listens, ln)
	return nil
}

func handleStreamProxyPass(l *loader, s *scope, d *conf.Directive) error {
	p := streamOf(s).proxy
	if p.Pass != nil {
		return fmt.Errorf("\"proxy_pass\" directive is duplicate: a stream server proxies to one place")
	}
	raw := d.Args[0]
	if strings.Contains(raw, "://") {
		return argError(d, 0, "invalid address %q: a stream proxy_pass has no scheme; write \"proxy_pass %s;\"", raw, raw[strings.Index(raw, "://")+3:])
	}
	p.Pass = &StreamPass{Pos: toPos(d.Pos), Raw: raw, Var: strings.Contains(raw, "$")}
	return nil
}

// finishStream links what refers across blocks and checks what needs
// the whole stream block: proxy_pass targets, variables, zones, formats
// and listen conflicts.
func (l *loader) finishStream(st *Stream) {
	bound := map[string]Pos{}
	for _, srv := range st.Servers {
		pp := srv.Proxy.Pass
		if len(srv.Listens) == 0 && !srv.broken {
			l.errorf(fromPos(srv.Pos), "no \"listen\" is defined for this stream server: add e.g. listen 12345;")
		}
		switch {
		case pp != nil && srv.Proxy.Return != nil:
			l.errorf(fromPos(pp.Pos), "a stream server either proxies or returns: remove \"proxy_pass\" or \"return\"")
		case pp == nil && srv.Proxy.Return == nil && !srv.broken:
			l.errorf(fromPos(srv.Pos), "no \"proxy_pass\" in this stream server: add proxy_pass UPSTREAM; or proxy_pass HOST:PORT; (or return TEXT;)")
		case pp != nil:
			l.resolveStreamPass(st, pp)
		}
		for _, ln := range srv.Listens {
			key := ln.Network() + " " + ln.Addr
			if prev, dup := bound[key]; dup {
				l.errorf(fromPos(ln.Pos), "duplicate \"%s\" address and port pair (first at line %d): a stream address belongs to one server", ln.Addr, prev.Line)
			}
			bound[key] = ln.Pos
			if ln.SSL && len(srv.Proxy.SSL.Certificates) == 0 {
				l.errorf(fromPos(ln.Pos), "no \"ssl_certificate\" is defined for the \"listen ... ssl\" directive: add ssl_certificate and ssl_certificate_key to this server")
			}
		}
		for _, lc := range srv.Proxy.LimitConn {
			if st.Zones[lc.Zone] == nil {
				l.errorf(fromPos(srv.Pos), "no limit_conn_zone %q is defined: add limit_conn_zone $binary_remote_addr zone=%s:10m; to the stream block", lc.Zone, lc.Zone)
			}
		}
		for _, al := range srv.Proxy.AccessLogs {
			if _, ok := st.LogFormats[al.Format]; !ok {
				l.errorf(fromPos(srv.Pos), "unknown log format %q in access_log: define it with log_format %s '...'; in the stream block", al.Format, al.Format)
			}
		}
		for _, c := range srv.Proxy.SSL.Certificates {
			if c.Cert == "" || c.Key == "" {
				l.errorf(fromPos(c.Pos), "\"ssl_certificate\" and \"ssl_certificate_key\" come in pairs: add the missing one")
			}
		}
	}
	l.checkStreamVars(st)
}

// resolveStreamPass links proxy_pass to a stream upstream when its text
// names one (a group name wins over DNS, as in nginx), else checks that
// it is HOST:PORT.
func (l *loader) resolveStreamPass(st *Stream, pp *StreamPass) {
	if pp.Var {
		return
	}
	if u := st.Upstream(pp.Raw); u != nil {
		pp.Group = u.Name
		return
	}
	if !hasPort(pp.Raw) {
		msg := fmt.Sprintf("no port in upstream %q: write proxy_pass HOST:PORT; or define upstream %s { server HOST:PORT; } inside stream", pp.Raw, pp.Raw)
		var names []string
		for _, u := range st.Upstreams {
			names = append(names, u.Name)
		}
		if s := closest(pp.Raw, names); s != "" {
			msg = fmt.Sprintf("host not found in upstream %q: no stream upstream is named %q; did you mean %q?", pp.Raw, pp.Raw, s)
		}
		l.errorf(fromPos(pp.Pos), "%s", msg)
		return
	}
	host, port, err := splitHostPort(pp.Raw, "")
	if err != nil {
		l.errorf(fromPos(pp.Pos), "%v", err)
		return
	}
	pp.Addr = joinHostPort(host, port)
}
