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
	Addr            string
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
	out := make([]ServerStatus, len(g.peers))
	for i, p := range g.peers {
		st := p.st
		s := ServerStatus{
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
		f := st.flags.Load()
		switch {
		case p.down || f&flagDown != 0:
			s.State = StateDown
		case f&flagUnhealthy != 0:
			s.State = StateUnhealthy
		case !s.UnavailableUntil.IsZero() && !g.single:
			s.State = StateUnavailable
		case p.drain || f&flagDrain != 0:
			s.State = StateDraining
		case p.ramp(&pickCtx{g: g, now: now}) < rampScale:
			s.State = StateSlowStart
		default:
			s.State = StateUp
		}
		if g.single {
			s.UnavailableUntil = time.Time{}
		}
		out[i] = s
	}
	return out
}
