package config

import (
	"fmt"
	"net"
	"runtime"
	"sync"
	"time"
	"weak"

	"bunsan/internal/conf"
)

// Health is what the health-check and status directives of one Model
// say. It sits beside the Model rather than in it (see HealthOf) and, like
// the Model, is read-only once the load is done.
type Health struct {
	// Checks are every health_check, http and stream, in file order.
	Checks []*HealthCheck
	// Matches are the match blocks by name; http and stream have one
	// namespace each, as in nginx.
	Matches       map[string]*Match
	StreamMatches map[string]*Match

	endpoints map[*Location]string
	srvEnd    map[*Server]string
	zones     map[*Server]string
	// streamTimeout is health_check_timeout at stream level (0 = unset);
	// srvTimeout per stream server (keyed by its model object).
	streamTimeout time.Duration
	srvTimeout    map[any]time.Duration

	resolve sync.Once
	// Errs are the references that did not resolve (an unknown match, a
	// health_check in a location that proxies to no group). Load reports
	// them when finish calls finishHealth; HealthOf keeps them here too.
	Errs []*conf.Error
}

// Endpoint says which status endpoint a location serves: EndpointStubStatus,
// EndpointPrometheus or "" (none). A stub_status written at server level
// counts for every location of that server without its own handler, as
// in nginx; srv may be nil.
func (h *Health) Endpoint(srv *Server, loc *Location) string {
	if h == nil {
		return ""
	}
	if e := h.endpoints[loc]; e != "" {
		return e
	}
	return h.srvEnd[srv]
}

// Zone is the status_zone of a server block, or "".
func (h *Health) Zone(srv *Server) string {
	if h == nil {
		return ""
	}
	return h.zones[srv]
}

// GroupChecks lists the checks of one group.
func (h *Health) GroupChecks(group string, stream bool) []*HealthCheck {
	var out []*HealthCheck
	for _, c := range h.Checks {
		if c.Group == group && c.Stream == stream {
			out = append(out, c)
		}
	}
	return out
}

// The side table: one Health per Model, found by the Model's address and
// dropped when the Model is collected, so reloads do not pile them up.
var (
	sideMu sync.Mutex
	side   = map[weak.Pointer[Model]]*Health{}
)

// healthTable returns m's Health, making it on first use.
func healthTable(m *Model) *Health {
	k := weak.Make(m)
	sideMu.Lock()
	defer sideMu.Unlock()
	h := side[k]
	if h == nil {
		h = &Health{
			Matches: map[string]*Match{}, StreamMatches: map[string]*Match{},
			endpoints: map[*Location]string{}, srvEnd: map[*Server]string{}, zones: map[*Server]string{},
			srvTimeout: map[any]time.Duration{},
		}
		side[k] = h
		runtime.AddCleanup(m, func(k weak.Pointer[Model]) {
			sideMu.Lock()
			delete(side, k)
			sideMu.Unlock()
		}, k)
	}
	return h
}

// HealthOf returns the health checks and status endpoints of m, with
// every reference resolved. It never returns nil.
func HealthOf(m *Model) *Health {
	h := healthTable(m)
	h.resolve.Do(func() { h.Errs = h.resolveRefs() })
	return h
}

// finishHealth reports the health-check references that do not resolve.
// finish calls it once the whole file is read (a match block or an
// upstream may follow the health_check that names it).
func (l *loader) finishHealth() {
	l.errs = append(l.errs, HealthOf(l.m).Errs...)
}

// resolveRefs links each check to its group and match block and fills the
// settings it inherits from its location or stream server.
func (h *Health) resolveRefs() []*conf.Error {
	var errs []*conf.Error
	bad := func(c *HealthCheck, format string, args ...any) {
		errs = append(errs, &conf.Error{Pos: fromPos(c.Pos), Msg: fmt.Sprintf(format, args...)})
	}
	for _, c := range h.Checks {
		if c.resolve != nil {
			if msg := c.resolve(h); msg != "" {
				bad(c, "%s", msg)
				continue
			}
		}
		if c.Match == "" {
			continue
		}
		ms := h.Matches
		if c.Stream {
			ms = h.StreamMatches
		}
		mb := ms[c.Match]
		if mb == nil {
			bad(c, "match %q is not defined: add a \"match %s { ... }\" block to %s", c.Match, c.Match, map[bool]string{false: "http", true: "stream"}[c.Stream])
			continue
		}
		if c.Type == CheckUDP && len(mb.Send) == 0 {
			bad(c, "match %q for a udp health_check has no \"send\": a UDP check needs something to send", c.Match)
		}
		c.MatchBlock = mb
	}
	return errs
}

func orDuration(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// CheckAddr is the address a check of server addr connects to: addr, or
// its host with the check's port.
func (c *HealthCheck) CheckAddr(addr string) string {
	if c.Port == 0 {
		return addr
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	return net.JoinHostPort(host, fmt.Sprint(c.Port))
}

// ZoneName is the name a server block's figures go under: its
// status_zone, else its first server_name, else its first listen address.
func (h *Health) ZoneName(srv *Server) string {
	if z := h.Zone(srv); z != "" {
		return z
	}
	for _, n := range srv.Names {
		if n != "" && n != "_" {
			return n
		}
	}
	if len(srv.Listens) > 0 {
		return srv.Listens[0].Addr
	}
	return "_"
}
