package process

import (
	"net/http"

	"bunsan/internal/admin"
	"bunsan/internal/config"
	"bunsan/internal/dashboard"
)

// endpoint returns, for a location of m that serves bunsan itself instead
// of proxying (api, stub_status, prometheus, dashboard), its handler; nil
// for every other location. They are built here because they read what
// lives as long as the process: metrics, health checks and the groups
// being served.
func (s *Server) endpoint(m *config.Model) func(*config.Server, *config.Location) http.Handler {
	hc := config.HealthOf(m)
	return func(srv *config.Server, lc *config.Location) http.Handler {
		if lc.API != nil {
			return s.api(m, srv, lc)
		}
		switch kind := hc.Endpoint(srv, lc); kind {
		case config.EndpointDashboard:
			api, write := dashboard.APIOf(m)
			return dashboard.New(lc.Path, dashboard.Options{HTTP: s.httpGroups, Stream: s.streamGroups, Health: s.hc, Stats: s.mx, API: api, Write: write})
		default:
			return s.mx.EndpointHandler(kind)
		}
	}
}

// api is the NGINX Plus-compatible API of an "api" location, with the
// read-only status paths, health-check figures and basic auth.
func (s *Server) api(m *config.Model, srv *config.Server, lc *config.Location) http.Handler {
	return admin.New(lc.API, admin.Options{
		HTTP:   s.httpGroups,
		Stream: s.streamGroups,
		Auth:   m.BasicAuth(srv, lc),
		Log:    s.log,
		Plus:   s.mx.ServePlus,
		HealthStatus: func(stream bool, group, addr string) (admin.HealthStatus, bool) {
			st, ok := s.hc.Status(stream, group, addr)
			return admin.HealthStatus{Checks: st.Checks, Fails: st.Fails, Unhealthy: st.Unhealthy,
				LastPassed: st.LastPassed, Checking: st.Checking}, ok
		},
		HealthSync: s.hc.Sync,
	})
}
