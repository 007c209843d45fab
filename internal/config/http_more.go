package config

import (
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"

	"bunsan/internal/conf"
)

func httpMoreDirectives() []*directive {
	all := CtxHTTPAll
	srvLoc := CtxServer | CtxLocation | CtxIf
	return []*directive{
		{name: "add_header", ctx: all | CtxIf, minArgs: 2, maxArgs: 3, repeat: true, handle: handleAddHeader},
		{name: "error_page", ctx: all | CtxIf, minArgs: 2, maxArgs: many, repeat: true, handle: handleErrorPage},
		{name: "allow", ctx: all | CtxLimitExcept, minArgs: 1, maxArgs: 1, repeat: true, handle: handleHTTPAccess},
		{name: "deny", ctx: all | CtxLimitExcept, minArgs: 1, maxArgs: 1, repeat: true, handle: handleHTTPAccess},
		{name: "access_log", ctx: all | CtxIf | CtxLimitExcept, minArgs: 1, maxArgs: many, repeat: true, handle: handleHTTPAccessLog},
		{name: "log_format", ctx: CtxHTTP, minArgs: 2, maxArgs: many, repeat: true, handle: handleHTTPLogFormat},
		{name: "map", ctx: CtxHTTP, minArgs: 2, maxArgs: 2, block: true, repeat: true, handle: handleHTTPMap},
		{name: "if", ctx: CtxServer | CtxLocation, minArgs: 1, maxArgs: many, block: true, repeat: true, handle: handleIf},
		{name: "set", ctx: srvLoc, minArgs: 2, maxArgs: 2, repeat: true, handle: handleSet},
		{name: "set_real_ip_from", ctx: all, minArgs: 1, maxArgs: 1, repeat: true, handle: handleHTTPRealIPFrom},
		{name: "real_ip_header", ctx: all, minArgs: 1, maxArgs: 1, handle: func(l *loader, s *scope, d *conf.Directive) error {
			s.set.RealIPHeader = d.Args[0]
			s.set.set |= setRealIPHeader
			return nil
		}},
		{name: "real_ip_recursive", ctx: all, minArgs: 1, maxArgs: 1, handle: func(l *loader, s *scope, d *conf.Directive) error {
			on, err := parseFlag(d.Args[0])
			if err != nil {
				return argError(d, 0, "%v", err)
			}
			s.set.RealIPRecursive = on
			s.set.set |= setRealIPRecursive
			return nil
		}},
		{name: "client_header_timeout", ctx: CtxHTTP | CtxServer, minArgs: 1, maxArgs: 1, handle: settingsDuration(setClientHeaderTimeout, func(s *Settings) *time.Duration { return &s.ClientHeaderTimeout })},
		{name: "client_body_timeout", ctx: all, minArgs: 1, maxArgs: 1, handle: settingsDuration(setClientBodyTimeout, func(s *Settings) *time.Duration { return &s.ClientBodyTimeout })},
		{name: "keepalive_timeout", ctx: all, minArgs: 1, maxArgs: 2, handle: settingsDuration(setKeepaliveTimeout, func(s *Settings) *time.Duration { return &s.KeepaliveTimeout })},
		{name: "keepalive_requests", ctx: all, minArgs: 1, maxArgs: 1, handle: handleKeepaliveRequests},
		{name: "large_client_header_buffers", ctx: CtxHTTP | CtxServer, minArgs: 2, maxArgs: 2, handle: handleLargeHeaderBuffers},
		ignoredRow("client_header_buffer_size", CtxHTTP|CtxServer, 1, 1, "headers are read into one buffer bounded by large_client_header_buffers"),
		ignoredRow("ignore_invalid_headers", CtxHTTP|CtxServer, 1, 1, "bunsan rejects requests with invalid header names"),
		ignoredRow("underscores_in_headers", CtxHTTP|CtxServer, 1, 1, "header names with underscores are passed"),
		ignoredRow("send_timeout", all, 1, 1, "Go's server writes with the connection's deadline"),
		ignoredRow("reset_timedout_connection", all, 1, 1, "timed-out connections are closed"),
	}
}

func handleAddHeader(l *loader, s *scope, d *conf.Directive) error {
	h := AddHeader{Name: d.Args[0], Value: d.Args[1]}
	if len(d.Args) == 3 {
		if d.Args[2] != "always" {
			return argError(d, 2, "invalid parameter %q: the third argument of add_header can only be \"always\"", d.Args[2])
		}
		h.Always = true
	}
	if s.set.set&setAddHeaders == 0 {
		s.set.AddHeaders = nil
	}
	s.set.AddHeaders = append(s.set.AddHeaders, h)
	s.set.set |= setAddHeaders
	return nil
}

func handleErrorPage(l *loader, s *scope, d *conf.Directive) error {
	args := d.Args
	ep := ErrorPage{URI: args[len(args)-1]}
	args = args[:len(args)-1]
	if n := len(args); n > 0 && strings.HasPrefix(args[n-1], "=") {
		if args[n-1] == "=" {
			ep.TargetStatus = true
		} else {
			code, err := strconv.Atoi(args[n-1][1:])
			if err != nil || code < 100 || code > 999 {
				return argError(d, n-1, "invalid response code %q: write =CODE, e.g. =200", args[n-1])
			}
			ep.Response = code
		}
		args = args[:n-1]
	}
	if len(args) == 0 {
		return argError(d, 0, "error_page needs at least one status code, e.g. error_page 502 503 /50x.html")
	}
	for i, a := range args {
		code, err := strconv.Atoi(a)
		if err != nil || code < 300 || code > 599 {
			return argError(d, i, "value %q must be between 300 and 599", a)
		}
		ep.Codes = append(ep.Codes, code)
	}
	if s.set.set&setErrorPages == 0 {
		s.set.ErrorPages = nil
	}
	s.set.ErrorPages = append(s.set.ErrorPages, ep)
	s.set.set |= setErrorPages
	return nil
}

func handleHTTPAccess(l *loader, s *scope, d *conf.Directive) error {
	r, err := parseAccessRule(d)
	if err != nil {
		return err
	}
	if s.set.set&setAccess == 0 {
		s.set.Access = nil
	}
	s.set.Access = append(s.set.Access, r)
	s.set.set |= setAccess
	return nil
}

func handleHTTPAccessLog(l *loader, s *scope, d *conf.Directive) error {
	st := s.set
	if st.set&setAccessLogs == 0 {
		st.AccessLogs, st.AccessLogOff = nil, false
	}
	st.set |= setAccessLogs
	if d.Args[0] == "off" {
		st.AccessLogOff = true
		st.AccessLogs = nil
		return nil
	}
	al := HTTPAccessLog{Path: d.Args[0], Format: "combined"}
	if al.Path != "stderr" && !strings.HasPrefix(al.Path, "syslog:") {
		al.Path = l.prefixPath(al.Path)
	}
	if strings.Contains(al.Path, "$") {
		return argError(d, 0, "variables in access_log paths are not supported yet")
	}
	for i, a := range d.Args[1:] {
		switch {
		case i == 0 && !strings.Contains(a, "="):
			al.Format = a
		case strings.HasPrefix(a, "buffer="):
			n, err := parseSize(a[len("buffer="):])
			if err != nil {
				return argError(d, i+1, "%v", err)
			}
			al.Buffer = n
		case strings.HasPrefix(a, "flush="):
			t, err := parseDuration(a[len("flush="):])
			if err != nil {
				return argError(d, i+1, "%v", err)
			}
			al.Flush = t
		case strings.HasPrefix(a, "if="):
			al.If = a[len("if="):]
		case strings.HasPrefix(a, "gzip"):
			return argError(d, i+1, "%q in access_log is not supported yet", a)
		default:
			return argError(d, i+1, "invalid parameter %q in access_log: use FORMAT, buffer=SIZE or flush=TIME", a)
		}
	}
	if al.Buffer > 0 && al.Flush == 0 {
		al.Flush = time.Second // bunsan bounds how long a line can wait in the buffer
	}
	st.AccessLogs = append(st.AccessLogs, al)
	return nil
}

func handleHTTPLogFormat(l *loader, s *scope, d *conf.Directive) error {
	f := LogFormat{Escape: "default"}
	args := d.Args[1:]
	if v, ok := strings.CutPrefix(args[0], "escape="); ok {
		switch v {
		case "default", "json", "none":
		default:
			return argError(d, 1, "invalid escape %q: use default, json or none", v)
		}
		f.Escape = v
		args = args[1:]
		if len(args) == 0 {
			return fmt.Errorf("log_format %q has no format string", d.Args[0])
		}
	}
	name := d.Args[0]
	if name == "combined" {
		return argError(d, 0, "duplicate \"log_format\" name \"combined\": it is predefined")
	}
	if _, dup := l.http.LogFormats[name]; dup {
		return argError(d, 0, "duplicate \"log_format\" name %q", name)
	}
	f.Text = strings.Join(args, "")
	if l.http.LogFormats == nil {
		l.http.LogFormats = map[string]LogFormat{}
	}
	l.http.LogFormats[name] = f
	return nil
}

// HTTPMap is a map block in http: Var takes the value of the entry
// matching Source.
type HTTPMap struct {
	Pos        Pos
	Source     string
	Var        string // without "$"
	Default    string
	HasDefault bool
	Hostnames  bool
	Entries    []MapEntry
}

func handleHTTPMap(l *loader, s *scope, d *conf.Directive) error {
	dst := d.Args[1]
	if !strings.HasPrefix(dst, "$") || len(dst) < 2 {
		return argError(d, 1, "invalid variable name %q: the map's second argument is the variable it sets, e.g. $connection_upgrade", dst)
	}
	m := &HTTPMap{Pos: toPos(d.Pos), Source: d.Args[0], Var: dst[1:]}
	for _, prev := range l.http.Maps {
		if prev.Var == m.Var {
			return argError(d, 1, "variable %q is already defined by the map at line %d", dst, prev.Pos.Line)
		}
	}
	for _, e := range d.Block {
		switch {
		case e.HasBlock:
			l.errorf(e.Pos, "a map entry takes no block: write KEY VALUE;")
			continue
		case e.Name == "hostnames" && len(e.Args) == 0:
			m.Hostnames = true
			continue
		case e.Name == "volatile" && len(e.Args) == 0:
			continue
		case len(e.Args) != 1:
			l.errorf(e.Pos, "invalid map entry %q: write KEY VALUE; (one value per key)", e.Name)
			continue
		case e.Name == "default":
			m.Default, m.HasDefault = e.Args[0], true
			continue
		}
		me := mapEntry(e.Name, e.Args[0])
		if me.Regex {
			if _, err := regexp.Compile(me.Key); err != nil {
				l.errorf(e.Pos, "invalid regular expression %q in map: %v", me.Key, err)
				continue
			}
		} else {
			me.Key = strings.ToLower(me.Key) // nginx matches map strings ignoring case
		}
		m.Entries = append(m.Entries, me)
	}
	l.http.Maps = append(l.http.Maps, m)
	return nil
}

func handleSet(l *loader, s *scope, d *conf.Directive) error {
	name := d.Args[0]
	if !strings.HasPrefix(name, "$") || len(name) < 2 {
		return argError(d, 0, "invalid variable name %q: write set $name value;", name)
	}
	s.addRewrite(RewriteOp{Set: &SetVar{Name: name[1:], Value: d.Args[1]}})
	return nil
}

func handleHTTPRealIPFrom(l *loader, s *scope, d *conf.Directive) error {
	pfx, err := parseAddrPrefix(d.Args[0])
	if err != nil {
		return argError(d, 0, "%v", err)
	}
	if s.set.set&setRealIPFrom == 0 {
		s.set.RealIPFrom = nil
	}
	s.set.RealIPFrom = append(s.set.RealIPFrom, pfx)
	s.set.set |= setRealIPFrom
	return nil
}

func settingsDuration(bit settingsSet, field func(*Settings) *time.Duration) func(*loader, *scope, *conf.Directive) error {
	return func(l *loader, s *scope, d *conf.Directive) error {
		t, err := parseDuration(d.Args[0])
		if err != nil {
			return argError(d, 0, "%v", err)
		}
		*field(s.set) = t
		s.set.set |= bit
		return nil
	}
}

func handleKeepaliveRequests(l *loader, s *scope, d *conf.Directive) error {
	n, err := strconv.Atoi(d.Args[0])
	if err != nil || n < 0 {
		return argError(d, 0, "invalid number %q", d.Args[0])
	}
	s.set.KeepaliveRequests = n
	s.set.set |= setKeepaliveRequests
	return nil
}

func handleLargeHeaderBuffers(l *loader, s *scope, d *conf.Directive) error {
	n, err := strconv.Atoi(d.Args[0])
	if err != nil || n < 1 {
		return argError(d, 0, "invalid number of buffers %q", d.Args[0])
	}
	size, err := parseSize(d.Args[1])
	if err != nil || size < 1 {
		return argError(d, 1, "invalid buffer size %q", d.Args[1])
	}
	s.set.LargeHeaderBuffers = Buffers{Number: n, Size: size}
	s.set.set |= setLargeHeaderBuffers
	return nil
}

// parseAccessRule reads "allow|deny ADDRESS|CIDR|all", in http and stream.
func parseAccessRule(d *conf.Directive) (AccessRule, error) {
	r := AccessRule{Allow: d.Name == "allow"}
	if d.Args[0] == "all" {
		r.All = true
		return r, nil
	}
	pfx, err := parseAddrPrefix(d.Args[0])
	if err != nil {
		return r, argError(d, 0, "%v", err)
	}
	r.Prefix = pfx
	return r, nil
}

// parseAddrPrefix reads an address or CIDR block, as allow/deny and
// set_real_ip_from take them.
func parseAddrPrefix(a string) (netip.Prefix, error) {
	if ip, err := netip.ParseAddr(a); err == nil {
		return netip.PrefixFrom(ip, ip.BitLen()), nil
	}
	p, err := netip.ParsePrefix(a)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("invalid address %q: write an IP address or a CIDR block such as 10.0.0.0/8", a)
	}
	return p.Masked(), nil
}
