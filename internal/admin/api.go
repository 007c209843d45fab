package admin

import (
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"bunsan/internal/config"
	"bunsan/internal/upstream"
)

// Version is the NGINX Plus API version whose paths and fields bunsan
// serves. Earlier version numbers are accepted with the same answers, as
// tools often pin one.
const Version = 9

// Options says where the API finds the groups it shows and changes.
type Options struct {
	// HTTP returns the http upstream groups being served now. Nil means
	// none.
	HTTP func() []*upstream.Group
	// Stream returns the stream upstream groups. Nil means none yet.
	Stream func() []*upstream.Group
	// Auth, when set, requires HTTP basic authentication (auth_basic and
	// auth_basic_user_file of the API's location).
	Auth *config.BasicAuth
	// Log receives what a request cannot report: a state file that could
	// not be written after a change took effect. Nil means slog.Default.
	Log *slog.Logger
	// HealthStatus, when set, gives the active health-check figures of a
	// server; ok is false when no health_check covers it. An adapter over
	// (*health.Checker).Status fits.
	HealthStatus func(stream bool, group, addr string) (st HealthStatus, ok bool)
	// HealthSync, when set, is told after every change through the API, so
	// new servers get checked ((*health.Checker).Sync fits).
	HealthSync func(stream bool, group string)
	// Plus, when set, serves the other read-only NGINX Plus paths (nginx,
	// connections, http/requests, http/server_zones): it gets the path
	// after the version and reports false for a path it does not own
	// ((*metrics.Metrics).ServePlus fits).
	Plus func(w http.ResponseWriter, r *http.Request, segs []string) bool
}

// HealthStatus is a server's active health-check figures, as the NGINX
// Plus API's "health_checks" object. It mirrors health.Status; the admin
// package does not import health, whose tests build the HTTP proxy.
type HealthStatus struct {
	Checks, Fails, Unhealthy uint64
	LastPassed               bool
	// Checking is set while a mandatory check has not run yet.
	Checking bool
}

// handler serves one "api" location.
type handler struct {
	cfg  config.API
	opts Options
	log  *slog.Logger
}

// New returns the handler of an "api" location.
func New(cfg *config.API, opts Options) http.Handler {
	h := &handler{cfg: *cfg, opts: opts, log: opts.Log}
	if h.log == nil {
		h.log = slog.Default()
	}
	if opts.Auth != nil {
		return RequireBasic(h, opts.Auth)
	}
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	segs := h.segments(r.URL.Path)
	if len(segs) == 0 {
		if !h.method(w, r, http.MethodGet) {
			return
		}
		versions := make([]int, Version)
		for i := range versions {
			versions[i] = i + 1
		}
		writeJSON(w, http.StatusOK, versions)
		return
	}
	v, err := strconv.Atoi(segs[0])
	if err != nil || v < 1 || v > Version {
		writeError(w, errUnknownVersion)
		return
	}
	segs = segs[1:]
	if len(segs) == 0 {
		if h.method(w, r, http.MethodGet) {
			list := []string{"http", "stream"}
			if h.opts.Plus != nil {
				list = []string{"nginx", "connections", "http", "stream"}
			}
			writeJSON(w, http.StatusOK, list)
		}
		return
	}
	if h.opts.Plus != nil && !ownPath(segs) && h.opts.Plus(w, r, segs) {
		return
	}
	var groups func() []*upstream.Group
	stream := false
	switch segs[0] {
	case "http":
		groups = h.opts.HTTP
	case "stream":
		groups, stream = h.opts.Stream, true
	default:
		writeError(w, errPathNotFound)
		return
	}
	segs = segs[1:]
	if len(segs) == 0 {
		if h.method(w, r, http.MethodGet) {
			list := []string{"upstreams"}
			if h.opts.Plus != nil && !stream {
				list = []string{"requests", "server_zones", "upstreams"}
			}
			writeJSON(w, http.StatusOK, list)
		}
		return
	}
	if segs[0] != "upstreams" {
		writeError(w, errPathNotFound)
		return
	}
	list := sortedGroups(groups)
	h.upstreams(w, r, list, segs[1:], stream)
}

// segments splits the API path (what follows the location) into its
// non-empty parts: "/api/9/http/upstreams/" gives [9 http upstreams].
func (h *handler) segments(path string) []string {
	rest, ok := strings.CutPrefix(path, h.cfg.Prefix)
	if h.cfg.Prefix == "" || !ok {
		// A regex location: the API starts at the first segment after the
		// location's own, found as the first number, or after the first
		// segment if there is none.
		rest = path
		parts := strings.Split(strings.Trim(path, "/"), "/")
		for i, p := range parts {
			if _, err := strconv.Atoi(p); err == nil {
				rest = strings.Join(parts[i:], "/")
				break
			}
			if i == len(parts)-1 {
				rest = strings.Join(parts[1:], "/")
			}
		}
	}
	var out []string
	for _, p := range strings.Split(rest, "/") {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

// method checks that r uses one of the methods the endpoint supports
// (HEAD goes with GET), and that the API is writable for any other.
func (h *handler) method(w http.ResponseWriter, r *http.Request, allowed ...string) bool {
	m := r.Method
	if m == http.MethodHead {
		m = http.MethodGet
	}
	for _, a := range allowed {
		if a == m {
			if m != http.MethodGet && !h.cfg.Write {
				writeError(w, errMethodDisabled)
				return false
			}
			return true
		}
	}
	if m != http.MethodGet && !h.cfg.Write {
		// NGINX Plus reports a write to a read-only API as disabled,
		// whatever the endpoint.
		writeError(w, errMethodDisabled)
		return false
	}
	writeError(w, errMethodNotSupported)
	return false
}

// ownPath reports whether the path after the version is the upstream
// API's own (http, stream and the upstreams below them) rather than one
// for Options.Plus.
func ownPath(segs []string) bool {
	switch {
	case segs[0] == "stream":
		return true
	case segs[0] != "http":
		return false
	}
	return len(segs) == 1 || segs[1] == "upstreams"
}

func sortedGroups(f func() []*upstream.Group) []*upstream.Group {
	if f == nil {
		return nil
	}
	list := append([]*upstream.Group(nil), f()...)
	sort.Slice(list, func(i, j int) bool { return list[i].Name() < list[j].Name() })
	return list
}

func findGroup(list []*upstream.Group, name string) *upstream.Group {
	for _, g := range list {
		if g.Name() == name {
			return g
		}
	}
	return nil
}

// upstreams serves /upstreams and everything below it.
func (h *handler) upstreams(w http.ResponseWriter, r *http.Request, list []*upstream.Group, segs []string, stream bool) {
	if len(segs) == 0 {
		if !h.method(w, r, http.MethodGet) {
			return
		}
		out := make(map[string]Upstream, len(list))
		for _, g := range list {
			out[g.Name()] = h.upstreamJSON(g, stream)
		}
		writeJSON(w, http.StatusOK, out)
		return
	}
	g := findGroup(list, segs[0])
	if g == nil {
		writeError(w, errUpstreamNotFound)
		return
	}
	segs = segs[1:]
	switch {
	case len(segs) == 0:
		if !h.method(w, r, http.MethodGet, http.MethodDelete) {
			return
		}
		if r.Method == http.MethodDelete {
			// NGINX Plus: DELETE of an upstream resets its statistics.
			g.ResetStats()
			w.WriteHeader(http.StatusNoContent)
			return
		}
		writeJSON(w, http.StatusOK, h.upstreamJSON(g, stream))
	case segs[0] != "servers" || len(segs) > 2:
		writeError(w, errPathNotFound)
	case len(segs) == 1:
		h.servers(w, r, g, stream)
	default:
		id, err := strconv.Atoi(segs[1])
		if err != nil || id < 0 {
			writeError(w, errBadServerID)
			return
		}
		h.server(w, r, g, id, stream)
	}
}
