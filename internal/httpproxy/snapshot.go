package httpproxy

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"bunsan/internal/config"
	"bunsan/internal/h1client"
	"bunsan/internal/metrics"
	"bunsan/internal/tlsconf"
	"bunsan/internal/upstream"
)

// Snapshot is the HTTP data path for one configuration: immutable once
// built. Listeners hand every request to the snapshot current at the time
// (see Router), so a reload swaps one pointer and requests in flight
// finish on the snapshot they started on.
type Snapshot struct {
	byAddr map[string]*vhosts
	groups map[string]*upstream.Group
	vars   *varScope
	logs   *logSet
	// transports are shared by locations with the same settings, so that
	// they share idle backend connections.
	transports map[transportKey]*h1client.Pool
	log        *slog.Logger
	// http and building are the model and the server being compiled, for
	// settings that the config package resolves per location
	// (proxy_ssl_*).
	http     *config.HTTP
	building *config.Server
	// mx counts requests for metrics (nil: none); endpoint serves the
	// status locations (stub_status, prometheus, dashboard).
	mx       *metrics.Metrics
	endpoint func(*config.Server, *config.Location) http.Handler
	hc       *config.Health
}

// Extras are what the process adds to a snapshot: its metrics, and the
// handler of each location that serves bunsan itself (api, status,
// metrics, dashboard) instead of proxying; nil when it serves none.
type Extras struct {
	Metrics  *metrics.Metrics
	Endpoint func(*config.Server, *config.Location) http.Handler
}

// vserver is one server block, compiled.
type vserver struct {
	cfg     *config.Server
	locs    *locations
	named   map[string]*location
	rewrite []rewriteOp
	realIP  *realIP
	zone    *metrics.Zone // nil without metrics
	// ssl is the server's TLS settings, kept when ssl_verify_client is
	// "on" (certRequired) for nginx's 400 to a client that sent none.
	ssl          config.SSL
	certRequired bool
	// limits are the connection settings of the address this server is
	// the default of (nginx takes them from the default server).
	limits Limits
	logs   []logTarget
}

// handler answers the requests that a location matched.
type handler interface {
	serve(c *reqCtx, loc *location)
}

// Build compiles the model's http block. Groups come from store, so their
// live state carries over from earlier snapshots.
func Build(m *config.Model, store *upstream.Store, log *slog.Logger) (*Snapshot, error) {
	return BuildWith(m, store, log, Extras{})
}

// BuildWith is Build with the process's metrics and status endpoints.
func BuildWith(m *config.Model, store *upstream.Store, log *slog.Logger, ex Extras) (*Snapshot, error) {
	s := &Snapshot{mx: ex.Metrics, endpoint: ex.Endpoint, hc: config.HealthOf(m), byAddr: map[string]*vhosts{}, groups: map[string]*upstream.Group{}, vars: newVarScope(),
		transports: map[transportKey]*h1client.Pool{}, log: log}
	if m.HTTP == nil {
		return s, nil
	}
	for _, spec := range m.HTTP.Upstreams {
		g, err := store.Build(*spec)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: upstream %q: %w", spec.File, spec.Line, spec.Name, err)
		}
		s.groups[spec.Name] = g
	}
	s.http = m.HTTP
	if err := s.buildVars(m.HTTP); err != nil {
		return nil, err
	}
	logs, err := newLogSet(m, s.vars)
	if err != nil {
		return nil, err
	}
	s.logs = logs
	for _, sc := range m.HTTP.Servers {
		vs, err := s.buildServer(sc)
		if err != nil {
			return nil, err
		}
		for _, ln := range sc.Listens {
			v := s.byAddr[ln.Addr]
			if v == nil {
				v = newVhosts()
				s.byAddr[ln.Addr] = v
			}
			if err := v.add(vs, sc.Names, ln.DefaultServer); err != nil {
				return nil, fmt.Errorf("%s:%d: %w", sc.Pos.File, sc.Pos.Line, err)
			}
		}
	}
	return s, nil
}

func (s *Snapshot) buildServer(sc *config.Server) (*vserver, error) {
	s.building = sc
	vs := &vserver{cfg: sc, named: map[string]*location{}, limits: limitsOf(&sc.Settings)}
	if s.mx != nil {
		vs.zone = s.mx.Zone(s.hc.ZoneName(sc))
	}
	if s.http != nil {
		if ssl := s.http.ServerSSL(sc); ssl.VerifyClient == "on" {
			vs.ssl, vs.certRequired = ssl, true
		}
	}
	var err error
	if vs.rewrite, err = compileRewrite(sc.Rewrite, s.vars); err != nil {
		return nil, err
	}
	vs.realIP = newRealIP(&sc.Settings)
	if vs.logs, err = s.logs.targetsFor(&sc.Settings); err != nil {
		return nil, err
	}
	build := func(lc *config.Location) (*location, error) { return s.buildLocation(lc) }
	if vs.locs, err = buildLocations(sc.Locations, build); err != nil {
		return nil, err
	}
	for _, lc := range sc.Locations {
		if lc.Modifier == config.LocNamed {
			loc, err := s.buildLocation(lc)
			if err != nil {
				return nil, err
			}
			vs.named[lc.Path] = loc
		}
	}
	return vs, nil
}

func (s *Snapshot) buildHandler(lc *config.Location) (handler, error) {
	if s.endpoint != nil {
		if h := s.endpoint(s.building, lc); h != nil {
			return httpHandler{h}, nil
		}
	}
	switch {
	case lc.Return != nil:
		return newReturnHandler(lc.Return, s.vars)
	case lc.Proxy.Pass != nil:
		return newProxyHandler(lc, s, s.log)
	}
	return nil, nil
}

// Addrs lists the addresses this snapshot serves.
func (s *Snapshot) Addrs() []string {
	out := make([]string, 0, len(s.byAddr))
	for a := range s.byAddr {
		out = append(out, a)
	}
	return out
}

// Group returns the live upstream group called name, or nil.
func (s *Snapshot) Group(name string) *upstream.Group { return s.groups[name] }

// Limits returns the connection settings for a listening address: those
// of its default server, as nginx applies them before the Host is known.
func (s *Snapshot) Limits(addr string) Limits {
	if v := s.byAddr[addr]; v != nil && v.def != nil {
		return v.def.limits
	}
	return DefaultLimits()
}

// Close releases idle backend connections and flushes the access logs.
// Requests still running on the snapshot finish normally.
func (s *Snapshot) Close() {
	for _, t := range s.transports {
		t.Close()
	}
	if s.logs != nil {
		s.logs.close()
	}
}

// serve handles one request that arrived on addr.
func (s *Snapshot) serve(addr string, w http.ResponseWriter, r *http.Request) {
	c := newReqCtx(w, r, len(s.vars.slots))
	c.conn.requests.Add(1)
	c.s = s
	if r.TLS == nil && c.conn.guard != nil && c.conn.guard.tlsState != nil {
		r.TLS = c.conn.guard.tlsState // HTTP/1 over TLS reaches us through the guard
	}
	defer c.release()
	if code := rejectedCode(r); code != 0 {
		c.uri = "/"
		w.Header().Set("Connection", "close")
		writeError(c.w, code)
		s.logs.write(c, nil)
		return
	}
	v := s.byAddr[addr]
	if v == nil {
		writeError(c.w, http.StatusNotFound)
		return
	}
	vs, caps, re := v.find(hostOnly(r.Host))
	c.srv, c.caps, c.capRe = vs, caps, re
	c.srvCaps, c.srvRe = caps, re
	if vs.zone != nil {
		vs.zone.Begin()
		defer func() { vs.zone.End(c.w.status, r.ContentLength, c.w.headerBytes+c.w.bodyBytes) }()
	}
	if vs.certRequired && tlsconf.ClientCertMissing(vs.ssl, r.TLS) {
		c.uri = r.URL.Path
		writeErrorReason(c.w, http.StatusBadRequest, "No required SSL certificate was sent")
		s.logs.write(c, nil)
		return
	}
	if n := vs.limits.MaxRequests; n > 0 && c.conn.requests.Load() >= int64(n) {
		w.Header().Set("Connection", "close") // keepalive_requests
	}
	c.peer = r.RemoteAddr
	if vs.realIP != nil {
		vs.realIP.apply(r, c.peer)
	}
	uri, ok := normalizePath(r.URL.Path)
	if !ok {
		c.uri = r.URL.Path
		writeError(c.w, http.StatusBadRequest)
		s.logs.write(c, nil)
		return
	}
	c.uri = uri
	if ret := runRewrite(c, vs.rewrite); ret != nil {
		ret.serve(c, nil) // a server-level if ... return
		s.logs.write(c, nil)
		return
	}
	loc, locCaps := vs.locs.match(uri)
	if locCaps != nil {
		c.caps, c.capRe = locCaps, loc.re
	}
	s.run(c, loc)
	s.logs.write(c, loc)
}

// run applies a location's access rules, set directives and handler.
func (s *Snapshot) run(c *reqCtx, loc *location) {
	if loc == nil || loc.handler == nil {
		// nginx would serve files from its root here; bunsan has none.
		c.errorPage(loc, http.StatusNotFound)
		return
	}
	// set and return belong to nginx's rewrite phase, which runs before
	// the access phase: a location that returns is not subject to
	// allow/deny, exactly as in nginx.
	if loc.realIP != nil {
		loc.realIP.apply(c.r, c.peer)
	}
	if ret := runRewrite(c, loc.rewrite); ret != nil {
		ret.serve(c, loc)
		return
	}
	if _, isReturn := loc.handler.(*returnHandler); !isReturn && !loc.access.allowed(c.r) {
		c.errorPage(loc, http.StatusForbidden)
		return
	}
	loc.handler.serve(c, loc)
}

type transportKey struct {
	connect, read, send time.Duration
	version             string
	bufferSize          int64
	group               *upstream.Group
	tls                 *tls.Config
}

func (s *Snapshot) transportFor(p *config.Proxy, g *upstream.Group, tc *tls.Config) *h1client.Pool {
	k := transportKey{p.ConnectTimeout, p.ReadTimeout, p.SendTimeout, p.HTTPVersion, p.BufferSize, g, tc}
	if t, ok := s.transports[k]; ok {
		return t
	}
	t := newPool(p, g, tc)
	s.transports[k] = t
	return t
}

// httpHandler serves a location with a plain http.Handler (stub_status,
// prometheus).
type httpHandler struct{ h http.Handler }

func (h httpHandler) serve(c *reqCtx, _ *location) { h.h.ServeHTTP(c.w, c.r) }
