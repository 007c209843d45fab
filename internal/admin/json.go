package admin

import (
	"time"

	"bunsan/internal/upstream"
)

// Upstream is one group as GET /api/9/http/upstreams shows it (NGINX
// Plus's "HTTP Upstream" and "Stream Upstream" objects).
type Upstream struct {
	Peers     []Peer `json:"peers"`
	Keepalive int    `json:"keepalive"`
	Zombies   int    `json:"zombies"`
	Zone      string `json:"zone,omitempty"`
}

// Peer is one server with its live figures. HTTP peers count requests
// and responses; stream peers count connections.
type Peer struct {
	ID           int           `json:"id"`
	Server       string        `json:"server"`
	Name         string        `json:"name"`
	Backup       bool          `json:"backup"`
	Weight       int           `json:"weight"`
	State        string        `json:"state"`
	Active       int64         `json:"active"`
	MaxConns     int           `json:"max_conns,omitempty"`
	Requests     *uint64       `json:"requests,omitempty"`
	Connections  *uint64       `json:"connections,omitempty"`
	Responses    *Responses    `json:"responses,omitempty"`
	Sent         uint64        `json:"sent"`
	Received     uint64        `json:"received"`
	Fails        uint64        `json:"fails"`
	Unavail      uint64        `json:"unavail"`
	HealthChecks HealthChecks  `json:"health_checks"`
	Downtime     int64         `json:"downtime"`
	Selected     string        `json:"selected,omitempty"`
	HeaderTime   *int64        `json:"header_time,omitempty"`
	ResponseTime *int64        `json:"response_time,omitempty"`
	Extra        *PeerExtended `json:"bunsan,omitempty"`
}

// Responses counts responses by status class, as NGINX Plus does.
type Responses struct {
	C1xx  uint64            `json:"1xx"`
	C2xx  uint64            `json:"2xx"`
	C3xx  uint64            `json:"3xx"`
	C4xx  uint64            `json:"4xx"`
	C5xx  uint64            `json:"5xx"`
	Codes map[string]uint64 `json:"codes"`
	Total uint64            `json:"total"`
}

// HealthChecks are the active health-check figures of a server; zero,
// without last_passed, when no health_check covers it (as NGINX Plus).
type HealthChecks struct {
	Checks     uint64 `json:"checks"`
	Fails      uint64 `json:"fails"`
	Unhealthy  uint64 `json:"unhealthy"`
	LastPassed *bool  `json:"last_passed,omitempty"`
}

// PeerExtended holds figures NGINX Plus does not have, under "bunsan" so
// that tools which know NGINX Plus's fields are not disturbed.
type PeerExtended struct {
	EffectiveWeight  int    `json:"effective_weight"`
	FailsCounted     int    `json:"fails_counted"`
	UnavailableUntil string `json:"unavailable_until,omitempty"`
	SlowStart        bool   `json:"slow_start,omitempty"`
}

// ServerConf is one server as the servers endpoints show and take it
// (NGINX Plus's "HTTP Upstream Server").
type ServerConf struct {
	ID          int    `json:"id"`
	Server      string `json:"server"`
	Service     string `json:"service,omitempty"`
	Weight      int    `json:"weight"`
	MaxConns    int    `json:"max_conns"`
	MaxFails    int    `json:"max_fails"`
	FailTimeout string `json:"fail_timeout"`
	SlowStart   string `json:"slow_start"`
	Route       string `json:"route"`
	Backup      bool   `json:"backup"`
	Down        bool   `json:"down"`
	Drain       bool   `json:"drain,omitempty"`
}

// isoTime is NGINX Plus's timestamp: ISO 8601 in UTC, milliseconds.
func isoTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// apiState maps a server's state to NGINX Plus's names.
func apiState(s upstream.State) string {
	switch s {
	case upstream.StateDown:
		return "down"
	case upstream.StateUnhealthy:
		return "unhealthy"
	case upstream.StateUnavailable:
		return "unavail"
	case upstream.StateDraining:
		return "draining"
	}
	return "up" // slow start is "up" in NGINX Plus
}

func (h *handler) upstreamJSON(g *upstream.Group, stream bool) Upstream {
	st := g.Servers()
	u := Upstream{Peers: make([]Peer, 0, len(st)), Zone: g.Spec().Zone, Zombies: g.Zombies()}
	for _, s := range st {
		p := peerJSON(s, stream)
		if h.opts.HealthStatus != nil {
			if hs, ok := h.opts.HealthStatus(stream, g.Name(), s.Addr); ok {
				lp := hs.LastPassed
				p.HealthChecks = HealthChecks{Checks: hs.Checks, Fails: hs.Fails, Unhealthy: hs.Unhealthy, LastPassed: &lp}
				if hs.Checking && p.State == "up" {
					p.State = "checking"
				}
			}
		}
		u.Peers = append(u.Peers, p)
	}
	return u
}

func peerJSON(s upstream.ServerStatus, stream bool) Peer {
	p := Peer{
		ID:       s.ID,
		Server:   s.Addr,
		Name:     s.Name,
		Backup:   s.Backup,
		Weight:   s.Weight,
		State:    apiState(s.State),
		Active:   s.Active,
		MaxConns: s.MaxConns,
		Fails:    s.Failures,
		Unavail:  s.Unavail,
		Extra: &PeerExtended{
			EffectiveWeight: s.EffectiveWeight,
			FailsCounted:    s.Fails,
			SlowStart:       s.State == upstream.StateSlowStart,
		},
	}
	if !s.UnavailableUntil.IsZero() {
		p.Extra.UnavailableUntil = isoTime(s.UnavailableUntil)
	}
	if !s.Selected.IsZero() {
		p.Selected = isoTime(s.Selected)
	}
	n := s.Requests
	if stream {
		p.Connections = &n
	} else {
		p.Requests = &n
		r := &Responses{Codes: map[string]uint64{}}
		r.C1xx, r.C2xx, r.C3xx, r.C4xx, r.C5xx = s.Responses[0], s.Responses[1], s.Responses[2], s.Responses[3], s.Responses[4]
		for _, c := range s.Responses {
			r.Total += c
		}
		p.Responses = r
	}
	if s.HeaderTime > 0 || s.ResponseTime > 0 {
		ht, rt := s.HeaderTime.Milliseconds(), s.ResponseTime.Milliseconds()
		p.HeaderTime, p.ResponseTime = &ht, &rt
	}
	return p
}

func confJSON(c upstream.ServerConf) ServerConf {
	return ServerConf{
		ID:          c.ID,
		Server:      c.Addr,
		Service:     c.Service,
		Weight:      max(c.Weight, 1),
		MaxConns:    c.MaxConns,
		MaxFails:    c.MaxFails,
		FailTimeout: upstream.FormatDuration(c.FailTimeout),
		SlowStart:   upstream.FormatDuration(c.SlowStart),
		Route:       c.Route,
		Backup:      c.Backup,
		Down:        c.Down,
		Drain:       c.Drain,
	}
}

func confsJSON(list []upstream.ServerConf) []ServerConf {
	out := make([]ServerConf, 0, len(list))
	for _, c := range list {
		out = append(out, confJSON(c))
	}
	return out
}
