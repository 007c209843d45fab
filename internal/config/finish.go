package config

import (
	"fmt"
	"strings"

	"bunsan/internal/conf"
)

// Defaults for where the process writes, relative to the prefix as in
// nginx ("logs/nginx.pid", "logs/error.log").
const (
	DefaultPID      = "logs/bunsan.pid"
	DefaultErrorLog = "stderr"
)

// finish applies what needs the whole tree: defaults, inheritance from
// outer levels, references between blocks, and cross-directive checks.
func (l *loader) finish() {
	if !l.pidSet {
		l.m.PID = l.prefixPath(DefaultPID)
	}
	if l.m.ErrorLog == "" {
		l.m.ErrorLog = DefaultErrorLog
	}
	if l.http == nil {
		return
	}
	l.checkLogFormats()
	l.checkListenSockets(l.http.Servers)
	for _, srv := range l.http.Servers {
		merge(&srv.Proxy, &l.httpProxy)
		mergeSettings(&srv.Settings, &l.httpSettings)
		l.finishServer(srv)
		for _, loc := range srv.Locations {
			l.finishLocation(loc, &srv.Proxy, &srv.Settings)
		}
	}
}

func (l *loader) finishServer(srv *Server) {
	ssl := false
	for _, ln := range srv.Listens {
		ssl = ssl || ln.SSL
	}
	for _, c := range srv.SSL.Certificates {
		switch {
		case c.Cert == "":
			l.errorf(fromPos(c.Pos), "\"ssl_certificate_key\" %q has no \"ssl_certificate\": add the certificate it belongs to", c.Key)
		case c.Key == "":
			l.errorf(fromPos(c.Pos), "\"ssl_certificate\" %q has no \"ssl_certificate_key\": add the private key file", c.Cert)
		}
	}
	if merged := l.http.ServerSSL(srv); ssl && !merged.HasCertificate() {
		for _, ln := range srv.Listens {
			if ln.SSL {
				l.errorf(fromPos(ln.Pos), "no \"ssl_certificate\" is defined for the \"listen ... ssl\" directive: add ssl_certificate and ssl_certificate_key to this server")
				break
			}
		}
	}
}

func (l *loader) finishLocation(loc *Location, parent *Proxy, parentSet *Settings) {
	merge(&loc.Proxy, parent)
	mergeSettings(&loc.Settings, parentSet)
	if pp := loc.Proxy.Pass; pp != nil {
		l.resolvePass(pp)
		if msg := checkBuffers(&loc.Proxy); msg != "" {
			l.errorf(fromPos(loc.Pos), "%s", msg)
		}
	}
	for _, sub := range loc.Locations {
		l.finishLocation(sub, &loc.Proxy, &loc.Settings)
	}
}

// resolvePass links proxy_pass to an upstream group when its host names
// one, as nginx does (a group name wins over DNS).
func (l *loader) resolvePass(pp *ProxyPass) {
	if strings.Contains(pp.Host, "$") {
		return // variables are resolved per request
	}
	if u := l.http.Upstream(pp.Host); u != nil {
		pp.Group = u.Name
		return
	}
	if _, _, err := splitHostPort(pp.Host, "80"); err != nil {
		l.errorf(fromPos(pp.Pos), "%v", err)
		return
	}
	if !strings.ContainsAny(pp.Host, ".:[") && pp.Host != "localhost" {
		// A bare word that is no group is almost always a typo or a
		// group defined in the wrong place; nginx would try DNS.
		msg := fmt.Sprintf("host not found in upstream %q: no upstream block is named %q", pp.Host, pp.Host)
		if s := closest(pp.Host, l.upstreamNames()); s != "" {
			msg += fmt.Sprintf("; did you mean %q?", s)
		} else {
			msg += "; define it with upstream " + pp.Host + " { server HOST:PORT; } inside http"
		}
		l.errorf(fromPos(pp.Pos), "%s", msg)
	}
}

func (l *loader) upstreamNames() []string {
	var names []string
	for _, u := range l.http.Upstreams {
		names = append(names, u.Name)
	}
	return names
}

func fromPos(p Pos) conf.Pos { return conf.Pos{File: p.File, Line: p.Line, Col: p.Col} }

// checkLogFormats reports access_log lines naming a format that no
// log_format defines.
func (l *loader) checkLogFormats() {
	check := func(s *Settings, p Pos) {
		for _, al := range s.AccessLogs {
			if _, ok := l.http.LogFormats[al.Format]; !ok && al.Format != "combined" {
				l.errorf(fromPos(p), "unknown log format %q: define it with log_format %s '...'; in http", al.Format, al.Format)
			}
		}
	}
	check(&l.httpSettings, Pos{File: l.m.File})
	var walk func(locs []*Location)
	walk = func(locs []*Location) {
		for _, loc := range locs {
			if loc.Settings.set&setAccessLogs != 0 {
				check(&loc.Settings, loc.Pos)
			}
			walk(loc.Locations)
		}
	}
	for _, srv := range l.http.Servers {
		if srv.Settings.set&setAccessLogs != 0 {
			check(&srv.Settings, srv.Pos)
		}
		walk(srv.Locations)
	}
}
