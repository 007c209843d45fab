package upstream

import (
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
	nextID   int          // id of the next server to join: ids are never reused
	inflight atomic.Int64 // attempts in progress on the group (bounded load)
	learn    *learnTable

	// mu serialises changes to the server list: reloads (Build) and API
	// changes. Picks never take it.
	mu sync.Mutex
	// servers is the list served now: configuration plus API changes.
	servers []ServerSpec
	// base is the configuration the group was last built from, by
	// address, to tell at a reload which servers the configuration changed.
	base map[string]ServerSpec
	// latest is the Group built last; API changes apply to it.
	latest *Group
	// zombies are servers that left with requests in flight.
	zombies []*peerState
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
//
// The servers the Group serves are the Spec's, with the run-time changes
// made through the API (AddServer, RemoveServer, UpdateServer) carried
// over where the configuration did not change that server; see
// mergeServers.
func (s *Store) Build(spec Spec) (*Group, error) {
	if len(spec.Servers) == 0 && spec.StateFile == "" {
		return nil, fmt.Errorf("upstream %q: no servers", spec.Name)
	}
	spec.Servers = append([]ServerSpec(nil), spec.Servers...)
	if spec.Sticky != nil {
		st := *spec.Sticky
		spec.Sticky = &st
	}
	_, real := s.clock.(realClock)
	g := &Group{name: spec.Name, spec: spec, clock: s.clock, realClock: real}
	if err := g.resolveMethod(); err != nil {
		return nil, err
	}
	if spec.Sticky != nil {
		g.sticky = spec.Sticky.Mode
	}
	seen := make(map[string]bool, len(spec.Servers))
	primaries := 0
	for i := range spec.Servers {
		sv := &spec.Servers[i]
		if seen[sv.Addr] {
			return nil, fmt.Errorf("upstream %q: duplicate server %q", spec.Name, sv.Addr)
		}
		seen[sv.Addr] = true
		if err := checkServer(spec.Name, sv); err != nil {
			return nil, err
		}
		if !sv.Backup {
			primaries++
		}
	}
	if primaries == 0 && len(spec.Servers) > 0 {
		return nil, fmt.Errorf("upstream %q: only backup servers", spec.Name)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	gs := s.groups[spec.Name]
	if gs == nil {
		gs = &groupState{peers: map[string]*peerState{}}
		s.groups[spec.Name] = gs
	}
	g.gs = gs
	gs.mu.Lock()
	defer gs.mu.Unlock()

	list := mergeServers(gs.base, gs.servers, spec.Servers)
	states := make(map[string]*peerState, len(list))
	g.set.Store(g.buildSet(gs, list, states))
	gs.retire(states)
	gs.peers = states
	gs.servers = list
	gs.base = make(map[string]ServerSpec, len(spec.Servers))
	for _, sv := range spec.Servers {
		gs.base[sv.Addr] = sv
	}
	gs.latest = g

	if g.sticky == "learn" {
		if gs.learn == nil {
			gs.learn = newLearnTable()
		}
		gs.learn.configure(spec.Sticky)
	} else {
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
