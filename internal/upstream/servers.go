package upstream

import (
	"cmp"
	"fmt"
)

// serverSet is one version of a Group's server set. A Group holds the
// current version behind an atomic pointer: a pick loads it once and works
// on it without a lock, and a change through the API builds a new version
// beside it and swaps the pointer (copy on write). Requests in flight keep
// the version they started on (Tried remembers it), as they keep their
// configuration snapshot. Everything here is fixed once built except the
// round-robin current weights, which peerSet guards.
type serverSet struct {
	peers   []*Peer // primaries in order, then backups
	primary peerSet
	backup  peerSet
	single  bool // one primary, no backup: nginx's peers->single
	tries   int

	byAddr map[string]*Peer
	byID   map[int]*Peer
	bySID  map[string]*Peer
}

// checkServer rejects parameters no server may have.
func checkServer(group string, sv *ServerSpec) error {
	if sv.Addr == "" {
		return fmt.Errorf("upstream %q: server with no address", group)
	}
	if sv.Weight < 0 || sv.MaxConns < 0 || sv.MaxFails < 0 || sv.FailTimeout < 0 || sv.SlowStart < 0 {
		return fmt.Errorf("upstream %q: server %q: negative parameter", group, sv.Addr)
	}
	return nil
}

// buildSet makes a server set for g from list, wiring each server to its
// live state in states (by address), creating the state of a new server
// with the group's next id. It does not check the list: callers do.
func (g *Group) buildSet(gs *groupState, list []ServerSpec, states map[string]*peerState) *serverSet {
	sv := &serverSet{
		byAddr: make(map[string]*Peer, len(list)),
		byID:   make(map[int]*Peer, len(list)),
	}
	var primary, backup []*Peer
	for i := range list {
		s := &list[i]
		w := int64(max(s.Weight, 1))
		st := states[s.Addr]
		if st == nil {
			st = gs.peers[s.Addr]
		}
		if st == nil {
			st = newPeerState(w)
			st.id = gs.nextID
			gs.nextID++
		} else if st.weight.Load() != w {
			st.weight.Store(w)
			st.eff.Store(w)
		}
		states[s.Addr] = st
		p := &Peer{
			g:           g,
			id:          st.id,
			addr:        s.Addr,
			name:        cmp.Or(s.Written, s.Addr),
			route:       s.Route,
			sid:         stickyID(s.Route, s.Addr),
			weight:      w,
			maxConns:    int64(s.MaxConns),
			maxFails:    int32(s.MaxFails),
			failTimeout: int64(s.FailTimeout),
			slowStart:   int64(s.SlowStart),
			backup:      s.Backup,
			down:        s.Down,
			drain:       s.Drain,
			conf:        *s,
			st:          st,
		}
		sv.byAddr[s.Addr] = p
		sv.byID[p.id] = p
		if s.Backup {
			backup = append(backup, p)
		} else {
			primary = append(primary, p)
		}
		if !s.Down {
			sv.tries++
		}
	}
	sv.peers = append(primary, backup...)
	sv.single = len(primary) == 1 && len(backup) == 0
	for i, p := range sv.peers {
		p.index = i
		p.single = sv.single
	}
	sv.primary.init(primary)
	sv.backup.init(backup)
	for _, p := range primary {
		if !p.down {
			sv.primary.nUp++
		}
	}
	if g.kind == kindCHash {
		sv.primary.ring = buildRing(primary)
	}
	if g.sticky != "" {
		sv.bySID = make(map[string]*Peer, len(sv.peers))
		for _, p := range sv.peers {
			if _, ok := sv.bySID[p.sid]; !ok {
				sv.bySID[p.sid] = p
			}
		}
	}
	return sv
}

// mergeServers is the server list a reload builds: the configuration's
// servers, with run-time (API) changes kept where the configuration did
// not change that server. base is the configuration the group was last
// built from, current the list it serves now (configuration plus API
// changes), next the new configuration.
//
//   - a server the new configuration writes exactly as before keeps its
//     API changes (patched parameters; removed stays removed);
//   - a server new to the configuration, or written differently, is taken
//     as written: the configuration wins;
//   - a server added through the API and absent from both configurations
//     stays, after the configured ones.
func mergeServers(base map[string]ServerSpec, current, next []ServerSpec) []ServerSpec {
	cur := make(map[string]int, len(current))
	for i, s := range current {
		cur[s.Addr] = i
	}
	out := make([]ServerSpec, 0, len(next)+len(current))
	inNext := make(map[string]bool, len(next))
	for _, s := range next {
		inNext[s.Addr] = true
		if b, ok := base[s.Addr]; ok && sameServer(b, s) {
			i, live := cur[s.Addr]
			if !live {
				continue // removed through the API; the configuration did not change it
			}
			out = append(out, current[i])
			continue
		}
		out = append(out, s)
	}
	for _, s := range current {
		if _, configured := base[s.Addr]; !configured && !inNext[s.Addr] {
			out = append(out, s)
		}
	}
	return out
}

// sameServer compares two server lines, ignoring where they were written.
func sameServer(a, b ServerSpec) bool {
	a.Line, b.Line = 0, 0
	return a == b
}
