package config

import (
	"fmt"
	"regexp"
	"strings"

	"bunsan/internal/conf"
)

// StreamVariables are the built-in variables of bunsan's stream module;
// map blocks add their own. The stream package evaluates each of them.
var StreamVariables = []string{
	"binary_remote_addr", "bytes_received", "bytes_sent", "connection",
	"hostname", "msec", "pid", "protocol",
	"proxy_protocol_addr", "proxy_protocol_port",
	"proxy_protocol_server_addr", "proxy_protocol_server_port",
	"realip_remote_addr", "realip_remote_port",
	"remote_addr", "remote_port", "server_addr", "server_port",
	"session_time", "status", "time_iso8601", "time_local",
	"ssl_preread_server_name", "ssl_preread_protocol", "ssl_preread_alpn_protocols",
	"ssl_server_name", "ssl_protocol",
	"upstream_addr", "upstream_bytes_sent", "upstream_bytes_received",
	"upstream_connect_time", "upstream_first_byte_time", "upstream_session_time",
}

// VarNames returns the names of the variables referenced in s ($name or
// ${name}), in order; bad reports a "$" that starts no name.
func VarNames(s string) (names []string, bad bool) {
	for i := 0; i < len(s); i++ {
		if s[i] != '$' {
			continue
		}
		j := i + 1
		brace := j < len(s) && s[j] == '{'
		if brace {
			j++
		}
		k := j
		for k < len(s) && isVarChar(s[k]) {
			k++
		}
		if k == j || (brace && (k >= len(s) || s[k] != '}')) {
			return names, true
		}
		names = append(names, s[j:k])
		if brace {
			k++
		}
		i = k - 1
	}
	return names, false
}

func isVarChar(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// checkStreamVars reports unknown variables wherever stream text holds
// them: hash keys, map sources, proxy_pass, limit_conn_zone keys, log
// formats. A variable is known if it is built in or a map defines it.
func (l *loader) checkStreamVars(st *Stream) {
	known := map[string]bool{}
	for _, v := range StreamVariables {
		known[v] = true
	}
	for _, m := range st.Maps {
		known[m.Var] = true
	}
	// A set variable is known everywhere, as in nginx (where it is empty
	// in servers that do not set it).
	for _, srv := range st.Servers {
		for _, sv := range srv.Proxy.Sets {
			known[sv.Var] = true
		}
	}
	check := func(p Pos, where, text string) {
		names, bad := VarNames(text)
		if bad {
			l.errorf(fromPos(p), "invalid variable in %s %q: write $name or ${name}", where, text)
			return
		}
		for _, n := range names {
			if !known[n] {
				msg := fmt.Sprintf("unknown \"%s\" variable in %s", n, where)
				if s := closest(n, StreamVariables); s != "" {
					msg += fmt.Sprintf(": did you mean \"$%s\"?", s)
				}
				l.errorf(fromPos(p), "%s", msg)
			}
		}
	}
	for _, u := range st.Upstreams {
		if u.HashKey != "" {
			check(st.hashPos[u.Name], "hash", u.HashKey)
		}
	}
	for _, m := range st.Maps {
		check(m.Pos, "map", m.Source)
	}
	for _, z := range st.Zones {
		check(z.Pos, "limit_conn_zone", z.Key)
	}
	for _, srv := range st.Servers {
		if pp := srv.Proxy.Pass; pp != nil && pp.Var {
			check(pp.Pos, "proxy_pass", pp.Raw)
		}
		if r := srv.Proxy.Return; r != nil {
			check(srv.Pos, "return", *r)
		}
		for _, sv := range srv.Proxy.Sets {
			check(srv.Pos, "set $"+sv.Var, sv.Value)
		}
		for _, al := range srv.Proxy.AccessLogs {
			if al.If != "" {
				check(srv.Pos, "access_log if=", al.If)
			}
		}
	}
	for name, f := range st.LogFormats {
		check(Pos{File: l.m.File}, "log_format "+name, f)
	}
}

// handleMap reads "map SOURCE $VARIABLE { KEY VALUE; ... }". The block's
// lines are data, not directives, so it is read here and not walked
// through the table.
func handleMap(l *loader, s *scope, d *conf.Directive) error {
	st := l.m.Stream
	dst := d.Args[1]
	if !strings.HasPrefix(dst, "$") || len(dst) < 2 {
		return argError(d, 1, "invalid variable name %q: the map's second argument is the variable it sets, e.g. $backend", dst)
	}
	m := &StreamMap{Pos: toPos(d.Pos), Source: d.Args[0], Var: dst[1:]}
	if prev := st.Map(m.Var); prev != nil {
		return argError(d, 1, "variable %q is already defined by the map at line %d", dst, prev.Pos.Line)
	}
	for _, e := range d.Block {
		if e.HasBlock {
			l.errorf(e.Pos, "a map entry takes no block: write KEY VALUE;")
			continue
		}
		switch {
		case e.Name == "hostnames" && len(e.Args) == 0:
			m.Hostnames = true
			continue
		case e.Name == "volatile" && len(e.Args) == 0:
			continue
		case e.Name == "include":
			l.errorf(e.Pos, "include inside a map is not supported yet: write the entries in the map")
			continue
		case len(e.Args) != 1:
			l.errorf(e.Pos, "invalid map entry %q: write KEY VALUE; (one value per key)", e.Name)
			continue
		}
		if e.Name == "default" {
			m.Default = e.Args[0]
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
	st.Maps = append(st.Maps, m)
	return nil
}
