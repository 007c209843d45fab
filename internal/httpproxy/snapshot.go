package httpproxy

import (
	"fmt"
	"log/slog"
	"net/http"

	"bunsan/internal/config"
	"bunsan/internal/upstream"
)

// Snapshot is the HTTP data path for one configuration: immutable once
// built. Listeners hand every request to the snapshot current at the time
// (see Router), so a reload swaps one pointer and requests in flight
// finish on the snapshot they started on.
type Snapshot struct {
	byAddr map[string]*vhosts
	groups map[string]*upstream.Group
}

// vserver is one server block, compiled.
type vserver struct {
	cfg  *config.Server
	locs *locations
}

// handler answers the requests that a location matched.
type handler interface {
	serve(w http.ResponseWriter, r *http.Request, loc *location)
}

// Build compiles the model's http block. Groups come from store, so their
// live state carries over from earlier snapshots.
func Build(m *config.Model, store *upstream.Store, log *slog.Logger) (*Snapshot, error) {
	s := &Snapshot{byAddr: map[string]*vhosts{}, groups: map[string]*upstream.Group{}}
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
	for _, sc := range m.HTTP.Servers {
		vs := &vserver{cfg: sc}
		locs, err := buildLocations(sc.Locations, func(lc *config.Location) (handler, error) {
			return s.buildHandler(lc, log)
		})
		if err != nil {
			return nil, err
		}
		vs.locs = locs
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

func (s *Snapshot) buildHandler(lc *config.Location, log *slog.Logger) (handler, error) {
	switch {
	case lc.Return != nil:
		return newReturnHandler(lc.Return)
	case lc.Proxy.Pass != nil:
		return newProxyHandler(lc, s.groups, log)
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

// Close releases idle backend connections the snapshot holds.
func (s *Snapshot) Close() {}

// serve handles one request that arrived on addr.
func (s *Snapshot) serve(addr string, w http.ResponseWriter, r *http.Request) {
	v := s.byAddr[addr]
	if v == nil {
		writeError(w, http.StatusNotFound)
		return
	}
	vs := v.find(hostOnly(r.Host))
	loc := vs.locs.match(r.URL.Path)
	if loc == nil || loc.handler == nil {
		// nginx would serve files from its root here; bunsan has none.
		writeError(w, http.StatusNotFound)
		return
	}
	loc.handler.serve(w, r, loc)
}
