package httpproxy

import (
	"net/http"
	"net/netip"
	"regexp"
	"strings"

	"bunsan/internal/config"
)

// buildVars declares every set and map variable before anything is
// compiled, so that a variable may be used in a block before the one
// that sets it, as nginx allows.
func (s *Snapshot) buildVars(h *config.HTTP) error {
	var walk func(locs []*config.Location)
	walk = func(locs []*config.Location) {
		for _, l := range locs {
			declareRewrite(l.Rewrite, s.vars)
			walk(l.Locations)
		}
	}
	for _, srv := range h.Servers {
		declareRewrite(srv.Rewrite, s.vars)
		walk(srv.Locations)
	}
	s.declareCaptures(h)
	for _, m := range h.Maps {
		s.vars.maps[m.Var] = &mapVar{slot: s.vars.slot(m.Var)}
		delete(s.vars.slots, m.Var) // reached through maps, computed lazily
		s.vars.slots["\x00map:"+m.Var] = s.vars.maps[m.Var].slot
	}
	for _, m := range h.Maps {
		if err := compileMap(s.vars.maps[m.Var], m, s.vars); err != nil {
			return err
		}
	}
	return nil
}

// accessList is allow/deny, checked in order; the first match decides.
type accessList []config.AccessRule

func newAccessList(rules []config.AccessRule) (accessList, error) { return accessList(rules), nil }

func (a accessList) allowed(r *http.Request) bool {
	if len(a) == 0 {
		return true
	}
	ip, err := netip.ParseAddr(remoteHost(r))
	if err != nil {
		return false
	}
	ip = ip.Unmap()
	for _, rule := range a {
		if rule.All || rule.Prefix.Contains(ip) {
			return rule.Allow
		}
	}
	return true
}

type addHeader struct {
	name   string
	value  *expr
	always bool
}

func compileAddHeaders(hs []config.AddHeader, sc *varScope) ([]addHeader, error) {
	var out []addHeader
	for _, h := range hs {
		e, err := compileExpr(h.Value, sc)
		if err != nil {
			return nil, err
		}
		out = append(out, addHeader{name: http.CanonicalHeaderKey(h.Name), value: e, always: h.Always})
	}
	return out, nil
}

// addHeaders applies add_header: for the success and redirect statuses
// nginx lists, or for any status with "always".
func (loc *location) addHeaders(c *reqCtx, status int) {
	if loc == nil {
		return
	}
	ok := false
	switch status {
	case 200, 201, 204, 206, 301, 302, 303, 304, 307, 308:
		ok = true
	}
	for _, h := range loc.addHdrs {
		if !ok && !h.always {
			continue
		}
		if v := h.value.String(c); v != "" {
			c.w.Header().Add(h.name, v)
		}
	}
}

type errorPage struct {
	response     int
	targetStatus bool
	uri          *expr
}

func compileErrorPages(eps []config.ErrorPage, sc *varScope) (map[int]*errorPage, error) {
	if len(eps) == 0 {
		return nil, nil
	}
	out := map[int]*errorPage{}
	for _, ep := range eps {
		e, err := compileExpr(ep.URI, sc)
		if err != nil {
			return nil, err
		}
		p := &errorPage{response: ep.Response, targetStatus: ep.TargetStatus, uri: e}
		for _, code := range ep.Codes {
			if _, dup := out[code]; !dup {
				out[code] = p
			}
		}
	}
	return out, nil
}

func (loc *location) hasErrorPage(code int) bool {
	return loc != nil && loc.errorPages[code] != nil
}

// errorPage answers with status code: through the location's error_page
// for it if there is one (a named location, another URI served by an
// internal redirect, or a redirect to a URL), else with nginx's page.
// error_page is followed once: an error inside the error page's location
// gets the plain page, as nginx does without recursive_error_pages.
func (c *reqCtx) errorPage(loc *location, code int) {
	if c.w.status != 0 {
		return // a response was already started
	}
	ep := (*errorPage)(nil)
	if loc != nil && !c.inErrorPage {
		ep = loc.errorPages[code]
	}
	if ep == nil {
		loc.addHeaders(c, code)
		writeError(c.w, code)
		return
	}
	c.inErrorPage = true
	status := code
	if ep.response != 0 {
		status = ep.response
	}
	uri := ep.uri.String(c)
	switch {
	case strings.HasPrefix(uri, "http://") || strings.HasPrefix(uri, "https://"):
		if ep.response == 0 || ep.response < 301 || ep.response > 308 {
			status = http.StatusFound
		}
		c.w.Header().Set("Location", uri)
		writeError(c.w, status)
		return
	case strings.HasPrefix(uri, "@"):
		target := c.srv.named[uri[1:]]
		if target == nil {
			writeError(c.w, code)
			return
		}
		if !ep.targetStatus {
			c.w.force = status
		}
		c.snap().run(c, target)
		return
	}
	// An internal redirect to another URI: the request is matched again,
	// with GET unless it was HEAD, as nginx does.
	path, query, _ := strings.Cut(uri, "?")
	if c.r.Method != http.MethodHead {
		r2 := c.r.Clone(c.r.Context())
		r2.Method = http.MethodGet
		r2.Body, r2.ContentLength = http.NoBody, 0
		c.r = r2
	}
	u := *c.r.URL
	u.Path, u.RawPath, u.RawQuery = path, "", query
	c.r.URL = &u
	c.r.RequestURI = uri
	c.uri = path
	target, caps := c.srv.locs.match(path)
	if caps != nil {
		c.caps, c.capRe = caps, target.re
	}
	if !ep.targetStatus {
		c.w.force = status
	}
	c.snap().run(c, target)
}

// realIP is set_real_ip_from / real_ip_header / real_ip_recursive: when
// the connection comes from a trusted address, the client address is
// taken from the header, as ngx_http_realip_module does.
type realIP struct {
	from      []netip.Prefix
	header    string
	recursive bool
}

func newRealIP(s *config.Settings) *realIP {
	if len(s.RealIPFrom) == 0 {
		return nil
	}
	return &realIP{from: s.RealIPFrom, header: http.CanonicalHeaderKey(s.RealIPHeader), recursive: s.RealIPRecursive}
}

func (ri *realIP) trusted(a netip.Addr) bool {
	for _, p := range ri.from {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// apply rewrites r.RemoteAddr (port kept) when peer, the connection's
// own address, is trusted.
func (ri *realIP) apply(r *http.Request, peer string) {
	ap, err := netip.ParseAddrPort(peer)
	if err != nil || !ri.trusted(ap.Addr().Unmap()) {
		return
	}
	var vals []string
	for _, v := range r.Header[ri.header] {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				vals = append(vals, p)
			}
		}
	}
	if len(vals) == 0 {
		return
	}
	pick := vals[len(vals)-1]
	if ri.recursive {
		// The rightmost address that is not trusted is the client.
		for i := len(vals) - 1; i >= 0; i-- {
			pick = vals[i]
			a, err := netip.ParseAddr(vals[i])
			if err != nil || !ri.trusted(a.Unmap()) {
				break
			}
		}
	}
	a, err := netip.ParseAddr(pick)
	if err != nil {
		return
	}
	r.RemoteAddr = netip.AddrPortFrom(a, ap.Port()).String()
}

// declareCaptures makes the named groups of server_name and location
// regexes variables, as nginx does ($name for (?P<name>...)).
func (s *Snapshot) declareCaptures(h *config.HTTP) {
	add := func(pat string) {
		re, err := regexp.Compile(pat)
		if err != nil {
			return // reported where the regex is compiled for matching
		}
		for _, n := range re.SubexpNames() {
			if n != "" {
				s.vars.captures[n] = true
			}
		}
	}
	var walk func(locs []*config.Location)
	walk = func(locs []*config.Location) {
		for _, l := range locs {
			if l.Modifier == config.LocRegex || l.Modifier == config.LocRegexCI {
				add(l.Path)
			}
			walk(l.Locations)
		}
	}
	for _, srv := range h.Servers {
		for _, n := range srv.Names {
			if strings.HasPrefix(n, "~") {
				add(n[1:])
			}
		}
		walk(srv.Locations)
	}
}
