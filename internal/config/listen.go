package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Socket is what a listen directive sets on the listening socket itself:
// nginx's "listen options" (reuseport, backlog=, rcvbuf=, sndbuf=,
// deferred, fastopen=, so_keepalive=, ipv6only=, bind). As in nginx they
// may be given by one listen directive per address; the other listens
// of that address share its socket.
type Socket struct {
	// Given is set when the directive names any socket parameter.
	Given     bool
	ReusePort bool
	// Backlog is listen()'s queue length; 0 leaves the system's
	// (net.core.somaxconn, as Go asks for).
	Backlog int
	// RcvBuf and SndBuf are SO_RCVBUF and SO_SNDBUF in bytes; 0 leaves
	// the kernel's.
	RcvBuf, SndBuf int
	// Deferred accepts a connection only once the client has sent data
	// (TCP_DEFER_ACCEPT, 1 s as nginx sets it).
	Deferred bool
	// FastOpen is the TCP Fast Open queue length; 0 is off.
	FastOpen int
	// KeepAlive turns TCP keep-alive probes on for accepted connections;
	// nil leaves them off (nginx's so_keepalive=off default).
	KeepAlive *KeepAlive
	// DualStack (ipv6only=off) lets an IPv6 wildcard socket take IPv4
	// connections too; by default an [::] socket is IPv6-only, as in
	// nginx, so "listen 80; listen [::]:80;" binds both.
	DualStack bool
}

// KeepAlive is so_keepalive's idle:interval:count; a zero field keeps the
// system's value.
type KeepAlive struct {
	Idle, Interval time.Duration
	Count          int
}

// socketParam reads one listen parameter into so when it is a socket
// parameter; it reports whether it was one. deferred is an http-only
// parameter (stream sockets may wait for the server to speak first).
func socketParam(a string, so *Socket, http bool) (bool, error) {
	key, val, hasVal := strings.Cut(a, "=")
	num := func(what string) (int, error) {
		n, err := strconv.Atoi(val)
		if err != nil || n < 0 || n > 1<<30 {
			return 0, fmt.Errorf("invalid %s %q in listen: it must be a whole number", what, a)
		}
		return n, nil
	}
	size := func() (int, error) {
		n, err := parseSize(val)
		if err != nil || n == 0 || n > 1<<30 {
			return 0, fmt.Errorf("invalid %s size %q in listen: write bytes, e.g. %s=64k", key, a, key)
		}
		return int(n), nil
	}
	var err error
	switch {
	case a == "reuseport":
		so.ReusePort = true
	case a == "bind":
		// Every address gets its own socket in bunsan already.
	case a == "deferred" && http:
		so.Deferred = true
	case hasVal && key == "backlog":
		so.Backlog, err = num("backlog")
	case hasVal && key == "fastopen":
		so.FastOpen, err = num("fastopen queue length")
	case hasVal && (key == "rcvbuf" || key == "sndbuf"):
		var n int
		if n, err = size(); key == "rcvbuf" {
			so.RcvBuf = n
		} else {
			so.SndBuf = n
		}
	case hasVal && key == "ipv6only":
		switch val {
		case "on":
			so.DualStack = false
		case "off":
			so.DualStack = true
		default:
			err = fmt.Errorf("invalid ipv6only %q in listen: write ipv6only=on or ipv6only=off", a)
		}
	case hasVal && key == "so_keepalive":
		so.KeepAlive, err = parseKeepAlive(val)
	default:
		return false, nil
	}
	so.Given = true
	return true, err
}

// parseKeepAlive reads so_keepalive's value: on, off, or
// [idle]:[interval]:[count] with times in nginx syntax (seconds by
// default) and any part left empty for the system's value.
func parseKeepAlive(v string) (*KeepAlive, error) {
	switch v {
	case "on":
		return &KeepAlive{}, nil
	case "off":
		return nil, nil
	}
	bad := fmt.Errorf("invalid so_keepalive value %q: write on, off or idle:interval:count (e.g. 30m::10)", v)
	parts := strings.Split(v, ":")
	if len(parts) != 3 {
		return nil, bad
	}
	ka := &KeepAlive{}
	for i, p := range parts[:2] {
		if p == "" {
			continue
		}
		d, err := parseDuration(p)
		if err != nil || d < time.Second {
			return nil, bad
		}
		if i == 0 {
			ka.Idle = d
		} else {
			ka.Interval = d
		}
	}
	if parts[2] != "" {
		n, err := strconv.Atoi(parts[2])
		if err != nil || n < 1 || n > 127 {
			return nil, bad
		}
		ka.Count = n
	}
	return ka, nil
}

// checkListenSockets reports a second listen directive that sets socket
// parameters for an address whose socket another one already set up, as
// nginx's "duplicate listen options" does: one socket, one set.
func (l *loader) checkListenSockets(servers []*Server) {
	first := map[string]Pos{}
	for _, srv := range servers {
		for _, ln := range srv.Listens {
			if !ln.Given {
				continue
			}
			if p, dup := first[ln.Addr]; dup {
				where := fmt.Sprintf("line %d", p.Line)
				if p.File != ln.Pos.File {
					where = fmt.Sprintf("%s:%d", p.File, p.Line)
				}
				l.errorf(fromPos(ln.Pos), "duplicate listen options for %s (first set at %s): socket parameters such as reuseport, backlog= or deferred go on one listen directive per address", ln.Addr, where)
				continue
			}
			first[ln.Addr] = ln.Pos
		}
	}
}
