package config

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"bunsan/internal/conf"
	"bunsan/internal/upstream"
)

// upstreamScope is an upstream block being read: the spec it fills and
// which method directive (if any) chose the method, to catch two.
//
// It also carries a stream block's scope (stream is set, spec nil): the
// loader's scope type has one slot for module-owned state, and the
// stream module's state is as much its own as an upstream's.
type upstreamScope struct {
	spec     *upstream.Spec
	methodBy string
	stream   *streamScope
}

func upstreamDirectives() []*directive {
	// Rows that nginx's stream upstream module has too take both contexts;
	// sticky and keepalive are HTTP only.
	u := CtxUpstream | CtxStreamUpstream
	return []*directive{
		{name: "upstream", ctx: CtxHTTP | CtxStream, minArgs: 1, maxArgs: 1, block: true, repeat: true, handle: handleUpstream},
		{name: "server", ctx: u, minArgs: 1, maxArgs: many, repeat: true, handle: handleUpstreamServer},
		{name: "hash", ctx: u, minArgs: 1, maxArgs: 3, handle: handleHash},
		{name: "ip_hash", ctx: u, handle: methodSetter(upstream.IPHash)},
		{name: "least_conn", ctx: u, handle: methodSetter(upstream.LeastConn)},
		{name: "random", ctx: u, maxArgs: 2, handle: handleRandom},
		{name: "least_time", ctx: u, minArgs: 1, maxArgs: 2, handle: handleLeastTime},
		{name: "sticky", ctx: CtxUpstream, minArgs: 1, maxArgs: many, handle: handleSticky},
		{name: "keepalive", ctx: CtxUpstream, minArgs: 1, maxArgs: 1, handle: upstreamInt(func(s *upstream.Spec) *int { return &s.Keepalive })},
		{name: "keepalive_requests", ctx: CtxUpstream, minArgs: 1, maxArgs: 1, handle: upstreamInt(func(s *upstream.Spec) *int { return &s.KeepaliveRequests })},
		{name: "keepalive_time", ctx: CtxUpstream, minArgs: 1, maxArgs: 1, handle: upstreamDuration(func(s *upstream.Spec) *time.Duration { return &s.KeepaliveTime })},
		{name: "keepalive_timeout", ctx: CtxUpstream, minArgs: 1, maxArgs: 1, handle: upstreamDuration(func(s *upstream.Spec) *time.Duration { return &s.KeepaliveTimeout })},
		{name: "zone", ctx: u, minArgs: 1, maxArgs: 2, handle: handleZone},
	}
}

func handleUpstream(l *loader, s *scope, d *conf.Directive) error {
	name := d.Args[0]
	if strings.Contains(name, "/") || strings.Contains(name, "://") {
		return argError(d, 0, "invalid upstream name %q: name the group with a plain word (e.g. upstream backend { ... }) and use it as proxy_pass http://backend", name)
	}
	// http and stream upstreams are separate namespaces, as in nginx.
	inner, find := CtxUpstream, l.http.Upstream
	if s.ctx == CtxStream {
		inner, find = CtxStreamUpstream, l.m.Stream.Upstream
	}
	if prev := find(name); prev != nil {
		return argError(d, 0, "duplicate upstream %q: it is already defined at %s:%d", name, prev.File, prev.Line)
	}
	spec := &upstream.Spec{Name: name, File: d.Pos.File, Line: d.Pos.Line, Method: upstream.RoundRobin}
	us := &upstreamScope{spec: spec}
	before := len(l.errs)
	l.block(&scope{ctx: inner, ups: us}, d.Block)
	// With "state FILE" an empty list is fine: servers come through the API.
	if len(spec.Servers) == 0 && spec.StateFile == "" && len(l.errs) == before {
		return fmt.Errorf("no servers are inside upstream %q: add at least one \"server HOST:PORT;\"", name)
	}
	if s.ctx == CtxStream {
		l.m.Stream.Upstreams = append(l.m.Stream.Upstreams, spec)
	} else {
		l.http.Upstreams = append(l.http.Upstreams, spec)
	}
	return nil
}

func handleUpstreamServer(l *loader, s *scope, d *conf.Directive) error {
	sv := upstream.ServerSpec{
		Weight:      upstream.DefaultWeight,
		MaxFails:    upstream.DefaultMaxFails,
		FailTimeout: upstream.DefaultFailTimeout,
		Line:        d.Pos.Line,
	}
	addr := d.Args[0]
	if strings.Contains(addr, "://") {
		return argError(d, 0, "invalid address %q: an upstream server is HOST:PORT without a scheme; write \"server %s;\"", addr, addr[strings.Index(addr, "://")+3:])
	}
	if strings.HasPrefix(addr, "unix:") {
		return argError(d, 0, "unix-socket servers (%q) are not supported yet", addr)
	}
	host, port, err := splitHostPort(addr, "80")
	if err != nil {
		return argError(d, 0, "%v", err)
	}
	if host == "" {
		return argError(d, 0, "invalid address %q: the host is missing", addr)
	}
	if s.ctx == CtxStreamUpstream && !hasPort(addr) {
		// nginx: "no port in upstream"; a stream has no default port.
		return argError(d, 0, "no port in upstream server %q: a stream upstream server is HOST:PORT, e.g. server %s:5432;", addr, addr)
	}
	if strings.ContainsAny(host, "{}$") {
		return argError(d, 0, "invalid address %q: write a real host and port, e.g. server 10.0.0.1:8080;", addr)
	}
	sv.Addr = joinHostPort(host, port)
	sv.Written = addr // consistent hashing hashes the text as written, as nginx does
	for i, a := range d.Args[1:] {
		if err := serverParam(&sv, a); err != nil {
			return argError(d, i+1, "%v", err)
		}
	}
	if sv.Backup && sv.Down {
		return fmt.Errorf("server %q cannot be both \"backup\" and \"down\"", sv.Addr)
	}
	spec := s.ups.spec
	if sv.Backup && spec.Method != upstream.RoundRobin && spec.Method != upstream.LeastConn && spec.Method != "" {
		return fmt.Errorf("\"backup\" cannot be used with the %q method (as in nginx): remove backup or the method", spec.Method)
	}
	for _, o := range spec.Servers {
		if o.Addr == sv.Addr {
			return argError(d, 0, "duplicate server %q in upstream %q (first at line %d): merge them, giving it a larger weight instead", sv.Addr, spec.Name, o.Line)
		}
	}
	spec.Servers = append(spec.Servers, sv)
	return nil
}

// hasPort reports whether an address as written names a port.
func hasPort(addr string) bool {
	_, _, err := net.SplitHostPort(addr)
	return err == nil
}

func joinHostPort(host, port string) string {
	if strings.Contains(host, ":") {
		return "[" + host + "]:" + port
	}
	return host + ":" + port
}

// serverParam applies one parameter of an upstream server line.
func serverParam(sv *upstream.ServerSpec, a string) error {
	key, val, hasVal := strings.Cut(a, "=")
	intVal := func(minV int) (int, error) {
		n, err := strconv.Atoi(val)
		if err != nil || n < minV {
			return 0, fmt.Errorf("invalid %s %q: it must be a whole number of at least %d", key, val, minV)
		}
		return n, nil
	}
	var err error
	switch {
	case key == "weight" && hasVal:
		sv.Weight, err = intVal(1)
	case key == "max_conns" && hasVal:
		sv.MaxConns, err = intVal(0)
	case key == "max_fails" && hasVal:
		sv.MaxFails, err = intVal(0)
	case key == "fail_timeout" && hasVal:
		sv.FailTimeout, err = parseDuration(val)
	case key == "slow_start" && hasVal:
		sv.SlowStart, err = parseDuration(val)
	case key == "route" && hasVal:
		if val == "" {
			return fmt.Errorf("route= needs a value")
		}
		sv.Route = val
	case key == "service" && hasVal:
		sv.Service = val
	case a == "backup":
		sv.Backup = true
	case a == "down":
		sv.Down = true
	case a == "drain":
		sv.Drain = true
	case a == "resolve":
		sv.Resolve = true
	case a == "server":
		return fmt.Errorf("missing \";\" before %q: end each server line with \";\"", a)
	default:
		return fmt.Errorf("invalid parameter %q: an upstream server takes weight=N, max_conns=N, max_fails=N, fail_timeout=TIME, backup, down, drain, slow_start=TIME, route=STRING, resolve and service=NAME", a)
	}
	return err
}

// setMethod records the balancing method, refusing a second one.
func setMethod(s *scope, d *conf.Directive, m upstream.Method) error {
	us := s.ups
	if us.methodBy != "" {
		return fmt.Errorf("load balancing method redefined: %q after %q; an upstream uses one method", d.Name, us.methodBy)
	}
	for _, sv := range us.spec.Servers {
		if sv.Backup && m != upstream.LeastConn {
			return fmt.Errorf("%q cannot be used with \"backup\" servers (as in nginx): remove backup or the method", d.Name)
		}
	}
	us.methodBy = d.Name
	us.spec.Method = m
	return nil
}

func methodSetter(m upstream.Method) func(*loader, *scope, *conf.Directive) error {
	return func(l *loader, s *scope, d *conf.Directive) error { return setMethod(s, d, m) }
}

func handleHash(l *loader, s *scope, d *conf.Directive) error {
	if err := setMethod(s, d, upstream.Hash); err != nil {
		return err
	}
	spec := s.ups.spec
	spec.HashKey = d.Args[0]
	if s.ctx == CtxStreamUpstream {
		l.m.Stream.hashPos[spec.Name] = toPos(d.Pos)
	}
	for i, a := range d.Args[1:] {
		switch {
		case a == "consistent":
			spec.Consistent = true
		case strings.HasPrefix(a, "balance_factor="):
			f, err := strconv.ParseFloat(a[len("balance_factor="):], 64)
			if err != nil || f <= 1 {
				return argError(d, i+1, "invalid %q: balance_factor is a number above 1, e.g. balance_factor=1.25", a)
			}
			spec.BalanceFactor = f
		default:
			return argError(d, i+1, "invalid parameter %q: write hash KEY [consistent [balance_factor=F]]", a)
		}
	}
	if spec.BalanceFactor > 0 && !spec.Consistent {
		return fmt.Errorf("balance_factor needs \"consistent\": write hash %s consistent balance_factor=%g", spec.HashKey, spec.BalanceFactor)
	}
	return nil
}

func handleRandom(l *loader, s *scope, d *conf.Directive) error {
	if err := setMethod(s, d, upstream.Random); err != nil {
		return err
	}
	spec := s.ups.spec
	if len(d.Args) == 0 {
		return nil
	}
	if d.Args[0] != "two" {
		return argError(d, 0, "invalid parameter %q: write random [two [least_conn|least_time=header|last_byte]]", d.Args[0])
	}
	spec.Two, spec.TwoMethod = true, upstream.LeastConn
	if len(d.Args) == 2 {
		switch a := d.Args[1]; a {
		case "least_conn":
		case "least_time=header", "least_time=last_byte":
			spec.TwoMethod, spec.LeastTimeMode = upstream.LeastTime, strings.TrimPrefix(a, "least_time=")
		case "least_time=connect", "least_time=first_byte":
			if s.ctx != CtxStreamUpstream {
				return argError(d, 1, "invalid parameter %q: in http use least_time=header or least_time=last_byte", a)
			}
			spec.TwoMethod, spec.LeastTimeMode = upstream.LeastTime, strings.TrimPrefix(a, "least_time=")
		default:
			return argError(d, 1, "invalid parameter %q: after \"two\" use least_conn, least_time=header or least_time=last_byte", a)
		}
	}
	return nil
}

func handleLeastTime(l *loader, s *scope, d *conf.Directive) error {
	if err := setMethod(s, d, upstream.LeastTime); err != nil {
		return err
	}
	spec := s.ups.spec
	switch m := d.Args[0]; {
	case s.ctx == CtxStreamUpstream && (m == "connect" || m == "first_byte" || m == "last_byte"):
		// The upstream package scores "connect" and "first_byte" as
		// "header"; the stream proxy reports the matching time.
		spec.LeastTimeMode = m
	case s.ctx == CtxStreamUpstream:
		return argError(d, 0, "invalid parameter %q: write least_time connect|first_byte|last_byte [inflight]", m)
	case m == "header" || m == "last_byte":
		spec.LeastTimeMode = m
	default:
		return argError(d, 0, "invalid parameter %q: write least_time header|last_byte [inflight]", d.Args[0])
	}
	if len(d.Args) == 2 {
		if d.Args[1] != "inflight" {
			return argError(d, 1, "invalid parameter %q: the only option after the mode is \"inflight\"", d.Args[1])
		}
		spec.Inflight = true
	}
	return nil
}

func handleSticky(l *loader, s *scope, d *conf.Directive) error {
	st := &upstream.StickySpec{Mode: d.Args[0]}
	rest := d.Args[1:]
	switch st.Mode {
	case "cookie":
		if len(rest) == 0 {
			return fmt.Errorf("sticky cookie needs a cookie name: sticky cookie NAME [expires=TIME] [domain=D] [path=P] [httponly] [secure] [samesite=strict|lax|none]")
		}
		st.CookieName = rest[0]
		for i, a := range rest[1:] {
			if err := cookieParam(st, a); err != nil {
				return argError(d, i+2, "%v", err)
			}
		}
	case "route":
		if len(rest) == 0 {
			return fmt.Errorf("sticky route needs at least one variable, e.g. sticky route $route_cookie $route_uri")
		}
		st.RouteVars = rest
	case "learn":
		for i, a := range rest {
			key, val, _ := strings.Cut(a, "=")
			switch key {
			case "create":
				st.Create = append(st.Create, val)
			case "lookup":
				st.Lookup = append(st.Lookup, val)
			case "timeout":
				t, err := parseDuration(val)
				if err != nil {
					return argError(d, i+1, "%v", err)
				}
				st.Timeout = t
			case "zone":
				name, size, ok := strings.Cut(val, ":")
				if !ok || name == "" {
					return argError(d, i+1, "invalid %q: write zone=NAME:SIZE, e.g. zone=client_sessions:1m", a)
				}
				n, err := parseSize(size)
				if err != nil {
					return argError(d, i+1, "%v", err)
				}
				st.Zone, st.ZoneSize = name, n
			case "header", "sync":
			default:
				return argError(d, i+1, "invalid parameter %q: sticky learn takes create=, lookup=, zone=, timeout=, header and sync", a)
			}
		}
		if len(st.Create) == 0 || len(st.Lookup) == 0 {
			return fmt.Errorf("sticky learn needs create=$VARIABLE and lookup=$VARIABLE")
		}
	default:
		return argError(d, 0, "invalid sticky method %q: use cookie, route or learn", st.Mode)
	}
	s.ups.spec.Sticky = st
	return nil
}

func cookieParam(st *upstream.StickySpec, a string) error {
	key, val, _ := strings.Cut(a, "=")
	switch key {
	case "expires":
		if val == "max" {
			st.Expires = -1
			return nil
		}
		t, err := parseDuration(val)
		st.Expires = t
		return err
	case "domain":
		st.Domain = val
	case "path":
		st.Path = val
	case "httponly":
		st.HTTPOnly = true
	case "secure":
		st.Secure = true
	case "samesite":
		switch strings.ToLower(val) {
		case "strict", "lax", "none":
			st.SameSite = strings.ToLower(val)
		default:
			return fmt.Errorf("invalid samesite %q: use strict, lax or none", val)
		}
	default:
		return fmt.Errorf("invalid parameter %q for sticky cookie", a)
	}
	return nil
}

func upstreamInt(field func(*upstream.Spec) *int) func(*loader, *scope, *conf.Directive) error {
	return func(l *loader, s *scope, d *conf.Directive) error {
		n, err := strconv.Atoi(d.Args[0])
		if err != nil || n < 1 {
			return argError(d, 0, "invalid value %q: %s takes a whole number of at least 1", d.Args[0], d.Name)
		}
		*field(s.ups.spec) = n
		return nil
	}
}

func upstreamDuration(field func(*upstream.Spec) *time.Duration) func(*loader, *scope, *conf.Directive) error {
	return func(l *loader, s *scope, d *conf.Directive) error {
		t, err := parseDuration(d.Args[0])
		if err != nil {
			return argError(d, 0, "%v", err)
		}
		*field(s.ups.spec) = t
		return nil
	}
}

func handleZone(l *loader, s *scope, d *conf.Directive) error {
	s.ups.spec.Zone = d.Args[0]
	if len(d.Args) == 2 {
		n, err := parseSize(d.Args[1])
		if err != nil {
			return argError(d, 1, "%v", err)
		}
		s.ups.spec.ZoneSize = n
	}
	return nil
}
