package upstream

import "time"

// State is a server's state as the API and metrics show it.
type State string

// Server states, in the order they take precedence.
const (
	StateDown        State = "down"        // configured or set down
	StateUnhealthy   State = "unhealthy"   // failed active health checks
	StateUnavailable State = "unavailable" // max_fails within fail_timeout
	StateDraining    State = "draining"
	StateSlowStart   State = "slow_start"
	StateUp          State = "up"
)

// ServerStatus is a snapshot of one server for the API and metrics.
type ServerStatus struct {
	ID              int
	Addr            string
	Name            string // the address as written
	Down            bool   // configured or set down
	Drain           bool
	Route           string
	Backup          bool
	Weight          int
	EffectiveWeight int // lowered by failures, recovering by one a pick
	MaxConns        int
	MaxFails        int
	FailTimeout     time.Duration
	SlowStart       time.Duration
	State           State
	Active          int64  // attempts in progress
	Fails           int    // failures counted towards max_fails
	Requests        uint64 // picks since the server joined the group
	Failures        uint64 // failed attempts since then
	// Unavail counts the times max_fails made the server unavailable.
	Unavail uint64
	// Responses counts responses by class: [0] is 1xx, [4] is 5xx.
	Responses [5]uint64
	// Selected is when the server was last picked; zero if never.
	Selected time.Time
	// UnavailableUntil is when a failed server will be tried again.
	UnavailableUntil time.Time
	// HeaderTime and ResponseTime are least_time's averages (ms precision).
	HeaderTime   time.Duration
	ResponseTime time.Duration
	// PeakEWMA is the decayed latency of random two least_time.
	PeakEWMA time.Duration
}

// Servers returns a snapshot of every server, primaries first.
func (g *Group) Servers() []ServerStatus {
	now := g.nowNanos()
	sv := g.set.Load()
	out := make([]ServerStatus, len(sv.peers))
	for i, p := range sv.peers {
		st := p.st
		f := st.flags.Load()
		s := ServerStatus{
			ID:               p.id,
			Name:             p.name,
			Down:             p.down || f&flagDown != 0,
			Drain:            p.drain || f&flagDrain != 0,
			Unavail:          st.unavail.Load(),
			Addr:             p.addr,
			Route:            p.route,
			Backup:           p.backup,
			Weight:           int(p.weight),
			EffectiveWeight:  int(st.eff.Load()),
			MaxConns:         int(p.maxConns),
			MaxFails:         int(p.maxFails),
			FailTimeout:      time.Duration(p.failTimeout),
			SlowStart:        time.Duration(p.slowStart),
			Active:           st.conns.Load(),
			Fails:            int(st.fails.Load()),
			Requests:         st.requests.Load(),
			Failures:         st.failures.Load(),
			UnavailableUntil: p.unavailableUntil(now),
		}
		st.mu.Lock()
		s.HeaderTime = time.Duration(st.lt.headerTime) * time.Millisecond
		s.ResponseTime = time.Duration(st.lt.responseTime) * time.Millisecond
		s.PeakEWMA = time.Duration(st.pe.decayed(now))
		st.mu.Unlock()
		for c := range s.Responses {
			s.Responses[c] = st.responses[c].Load()
		}
		if ns := st.selected.Load(); ns != 0 {
			s.Selected = time.Unix(0, ns)
		}
		switch {
		case s.Down:
			s.State = StateDown
		case f&flagUnhealthy != 0:
			s.State = StateUnhealthy
		case !s.UnavailableUntil.IsZero() && !sv.single:
			s.State = StateUnavailable
		case s.Drain:
			s.State = StateDraining
		case p.ramp(&pickCtx{g: g, now: now}) < rampScale:
			s.State = StateSlowStart
		default:
			s.State = StateUp
		}
		if sv.single {
			s.UnavailableUntil = time.Time{}
		}
		out[i] = s
	}
	return out
}
