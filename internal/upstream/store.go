package upstream

import (
	"cmp"
	"fmt"
	"sync"
	"sync/atomic"
)

// Store holds the live state of upstream servers across configuration
// snapshots: connection counts, failures, effective weights, drain and
// health flags, slow-start ramps, latency averages and learned sticky
// sessions. State is keyed by (group name, server address as written).
//
// A reload calls Build for each group of the new configuration; the new
// Group is wired to the state of every server that stays, so a failed
// server stays failed, active connections are still counted and a drain
// set through the API holds. In-flight requests keep the Group they
// picked from and report to it; both Groups share the state, so the
// counts stay right. State of servers (and groups) that leave the
// configuration is dropped: by Build for servers, by Retain for groups.
//
// What does not carry over is the per-snapshot round-robin position
// (nginx's current_weight), which restarts at zero as after an nginx
// reload, and the effective weight of a server whose weight changed.
//
// Group names are one namespace per Store. nginx keeps http and stream
// upstreams apart, so the HTTP and the stream proxy each need their own
// Store (or distinct names).
type Store struct {
	clock Clock

	mu     sync.Mutex
	groups map[string]*groupState
}

// groupState is the live state of one group name.
type groupState struct {
	peers    map[string]*peerState
	inflight atomic.Int64 // attempts in progress on the group (bounded load)
	learn    *learnTable
}

// NewStore returns an empty Store. A nil clock means real time.
func NewStore(clock Clock) *Store {
	if clock == nil {
		clock = realClock{}
	}
	return &Store{clock: clock, groups: map[string]*groupState{}}
}

// Retain drops the state of every group not named, after a reload that
// removed groups.
func (s *Store) Retain(names ...string) {
	keep := make(map[string]bool, len(names))
	for _, n := range names {
		keep[n] = true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for n := range s.groups {
		if !keep[n] {
			delete(s.groups, n)
		}
	}
}

// Build turns a validated Spec into a Group wired to the Store's state.
// The Spec is copied; later changes to it do not affect the Group.
func (s *Store) Build(spec Spec) (*Group, error) {
	if len(spec.Servers) == 0 {
		return nil, fmt.Errorf("upstream %q: no servers", spec.Name)
	}
	spec.Servers = append([]ServerSpec(nil), spec.Servers...)
	if spec.Sticky != nil {
		st := *spec.Sticky
		spec.Sticky = &st
	}
	g := &Group{name: spec.Name, spec: spec, clock: s.clock}
	if err := g.resolveMethod(); err != nil {
		return nil, err
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	gs := s.groups[spec.Name]
	if gs == nil {
		gs = &groupState{peers: map[string]*peerState{}}
		s.groups[spec.Name] = gs
	}
	g.gs = gs

	states := make(map[string]*peerState, len(spec.Servers))
	g.byAddr = make(map[string]*Peer, len(spec.Servers))
	var primary, backup []*Peer
	for i := range spec.Servers {
		sv := &spec.Servers[i]
		if _, dup := g.byAddr[sv.Addr]; dup {
			return nil, fmt.Errorf("upstream %q: duplicate server %q", spec.Name, sv.Addr)
		}
		if sv.Weight < 0 || sv.MaxConns < 0 || sv.MaxFails < 0 || sv.FailTimeout < 0 || sv.SlowStart < 0 {
			return nil, fmt.Errorf("upstream %q: server %q: negative parameter", spec.Name, sv.Addr)
		}
		w := int64(max(sv.Weight, 1))
		st := gs.peers[sv.Addr]
		if st == nil {
			st = newPeerState(w)
		} else if st.weight.Load() != w {
			st.weight.Store(w)
			st.eff.Store(w)
		}
		states[sv.Addr] = st
		p := &Peer{
			g:           g,
			addr:        sv.Addr,
			name:        cmp.Or(sv.Written, sv.Addr),
			route:       sv.Route,
			sid:         stickyID(sv.Route, sv.Addr),
			weight:      w,
			maxConns:    int64(sv.MaxConns),
			maxFails:    int32(sv.MaxFails),
			failTimeout: int64(sv.FailTimeout),
			slowStart:   int64(sv.SlowStart),
			backup:      sv.Backup,
			down:        sv.Down,
			drain:       sv.Drain,
			st:          st,
		}
		g.byAddr[sv.Addr] = p
		if sv.Backup {
			backup = append(backup, p)
		} else {
			primary = append(primary, p)
		}
		if !sv.Down {
			g.tries++
		}
	}
	if len(primary) == 0 {
		return nil, fmt.Errorf("upstream %q: only backup servers", spec.Name)
	}
	gs.peers = states

	g.peers = append(primary, backup...)
	for i, p := range g.peers {
		p.index = i
	}
	g.primary.init(primary)
	g.backup.init(backup)
	g.single = len(primary) == 1 && len(backup) == 0
	for _, p := range primary {
		if !p.down {
			g.nUp++
		}
	}
	if g.kind == kindCHash {
		g.ring = buildRing(primary)
	}
	if spec.Sticky != nil {
		g.sticky = spec.Sticky.Mode
		g.bySID = make(map[string]*Peer, len(g.peers))
		for _, p := range g.peers {
			if _, ok := g.bySID[p.sid]; !ok {
				g.bySID[p.sid] = p
			}
		}
		if g.sticky == "learn" {
			if gs.learn == nil {
				gs.learn = newLearnTable()
			}
			gs.learn.configure(spec.Sticky)
		}
	}
	if g.sticky != "learn" {
		gs.learn = nil
	}
	return g, nil
}

// resolveMethod maps the Spec's method to a kind and its options.
func (g *Group) resolveMethod() error {
	sp := &g.spec
	switch sp.Method {
	case "", RoundRobin:
		g.kind, g.methodName = kindRR, "round_robin"
	case LeastConn:
		g.kind, g.methodName = kindLeastConn, "least_conn"
	case IPHash:
		g.kind, g.methodName = kindIPHash, "ip_hash"
	case Hash:
		g.kind, g.methodName = kindHash, "hash"
		if sp.Consistent {
			g.kind, g.methodName = kindCHash, "hash consistent"
			if sp.BalanceFactor > 0 {
				if sp.BalanceFactor < 1 {
					return fmt.Errorf("upstream %q: balance_factor %g is below 1", sp.Name, sp.BalanceFactor)
				}
				g.bound = sp.BalanceFactor
				g.methodName += " balance_factor=" + formatFloat(sp.BalanceFactor)
			}
		}
	case Random:
		g.kind, g.methodName = kindRandom, "random"
		if sp.Two {
			g.kind = kindRandomTwo
			switch sp.TwoMethod {
			case "", LeastConn:
				g.methodName = "random two least_conn"
			case LeastTime:
				g.usePE = true
				g.ltLastByte = sp.LeastTimeMode == "last_byte"
				g.methodName = "random two least_time=" + ltMode(g.ltLastByte) + " (peak EWMA)"
			default:
				return fmt.Errorf("upstream %q: random two %q is not a method", sp.Name, sp.TwoMethod)
			}
		}
	case LeastTime:
		g.kind, g.useLT = kindLeastTime, true
		g.ltLastByte = sp.LeastTimeMode == "last_byte"
		g.ltInflight = sp.Inflight
		g.methodName = "least_time " + ltMode(g.ltLastByte)
		if sp.Inflight {
			g.methodName += " inflight"
		}
	default:
		return fmt.Errorf("upstream %q: unknown balancing method %q", sp.Name, sp.Method)
	}
	if st := sp.Sticky; st != nil {
		switch st.Mode {
		case "cookie", "route", "learn":
		default:
			return fmt.Errorf("upstream %q: unknown sticky mode %q", sp.Name, st.Mode)
		}
	}
	return nil
}

func ltMode(lastByte bool) string {
	if lastByte {
		return "last_byte"
	}
	return "header"
}

func formatFloat(f float64) string {
	return fmt.Sprintf("%g", f)
}
