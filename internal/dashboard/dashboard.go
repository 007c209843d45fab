// Package dashboard serves bunsan's live status page: each upstream group
// and server with its state, active connections, requests per second,
// error rate and latency as small live charts, and (when the API is
// writable) buttons to drain, enable and re-weight a server through the
// NGINX Plus API. Its assets are embedded: no CDN, it works offline.
//
// The page polls status.json once a second and keeps the last five
// minutes in the browser; rates are computed there from the cumulative
// counts, so the server keeps no history.
package dashboard

import (
	"embed"
	"encoding/json"
	"io/fs"
	"net/http"
	"sort"
	"strings"
	"time"

	"bunsan/internal/config"
	"bunsan/internal/health"
	"bunsan/internal/metrics"
	"bunsan/internal/upstream"
)

//go:embed assets
var assets embed.FS

// Options say where the figures come from and where the API is.
type Options struct {
	HTTP   func() []*upstream.Group
	Stream func() []*upstream.Group
	Health *health.Checker  // nil: no health figures
	Stats  *metrics.Metrics // nil: no latency
	// API is the path of the "api" location ("/api"); empty hides the
	// buttons. Write says whether it takes changes (api write=on).
	API   string
	Write bool
}

// New returns the handler of a dashboard location: "" and "/" serve the
// page, "status.json" the figures, the rest the embedded assets. prefix is
// the location's path, stripped before matching.
func New(prefix string, opt Options) http.Handler {
	sub, _ := fs.Sub(assets, "assets")
	files := http.FileServer(http.FS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest := strings.TrimPrefix(r.URL.Path, strings.TrimSuffix(prefix, "/"))
		switch rest {
		case "":
			http.Redirect(w, r, r.URL.Path+"/", http.StatusMovedPermanently)
		case "/status.json":
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Cache-Control", "no-store")
			json.NewEncoder(w).Encode(status(opt))
		default:
			r2 := r.Clone(r.Context())
			r2.URL.Path = rest
			files.ServeHTTP(w, r2)
		}
	})
}

// Status is what status.json holds.
type Status struct {
	Time   int64   `json:"time"` // unix ms
	API    string  `json:"api"`
	Write  bool    `json:"write"`
	Groups []Group `json:"groups"`
}

// Group is one upstream group.
type Group struct {
	Name     string   `json:"name"`
	Protocol string   `json:"protocol"` // "http" or "stream", the API's path part
	Servers  []Server `json:"servers"`
}

// Server is one server's figures; counts are cumulative.
type Server struct {
	ID       int    `json:"id"`
	Addr     string `json:"server"`
	State    string `json:"state"`
	Weight   int    `json:"weight"`
	Backup   bool   `json:"backup"`
	Active   int64  `json:"active"`
	Requests uint64 `json:"requests"`
	Failures uint64 `json:"fails"`
	// Errors are 5xx responses plus failed attempts.
	Errors uint64 `json:"errors"`
	// Timed and TimeMS give the average latency over a poll interval.
	Timed  uint64         `json:"timed"`
	TimeMS float64        `json:"time_ms"`
	Health *health.Status `json:"health_checks,omitempty"`
}

func status(opt Options) Status {
	st := Status{Time: time.Now().UnixMilli(), API: opt.API, Write: opt.Write, Groups: []Group{}}
	add := func(src func() []*upstream.Group, stream bool) {
		if src == nil {
			return
		}
		gs := append([]*upstream.Group(nil), src()...)
		sort.Slice(gs, func(i, j int) bool { return gs[i].Name() < gs[j].Name() })
		proto := "http"
		if stream {
			proto = "stream"
		}
		for _, g := range gs {
			out := Group{Name: g.Name(), Protocol: proto}
			for _, s := range g.Servers() {
				sv := Server{ID: s.ID, Addr: s.Addr, State: string(s.State), Weight: s.Weight, Backup: s.Backup,
					Active: s.Active, Requests: s.Requests, Failures: s.Failures, Errors: s.Responses[4] + s.Failures}
				if opt.Stats != nil {
					if n, total, ok := opt.Stats.Latency(stream, g.Name(), s.Addr); ok {
						sv.Timed, sv.TimeMS = n, float64(total)/float64(time.Millisecond)
					}
				}
				if opt.Health != nil {
					if hs, ok := opt.Health.Status(stream, g.Name(), s.Addr); ok {
						sv.Health = &hs
					}
				}
				out.Servers = append(out.Servers, sv)
			}
			st.Groups = append(st.Groups, out)
		}
	}
	add(opt.HTTP, false)
	add(opt.Stream, true)
	return st
}

// APIOf finds the "api" location the dashboard's buttons use: the first
// in the configuration, with whether it is writable. path is "" when
// there is none (the page then shows no buttons).
func APIOf(m *config.Model) (path string, write bool) {
	if m == nil || m.HTTP == nil {
		return "", false
	}
	var walk func(ls []*config.Location) bool
	walk = func(ls []*config.Location) bool {
		for _, l := range ls {
			if l.API != nil && l.API.Prefix != "" {
				path, write = l.API.Prefix, l.API.Write
				return true
			}
			if walk(l.Locations) {
				return true
			}
		}
		return false
	}
	for _, s := range m.HTTP.Servers {
		if walk(s.Locations) {
			break
		}
	}
	return path, write
}
