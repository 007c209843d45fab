package upstream

import (
	"errors"
	"fmt"
	"slices"
)

// Run-time changes to a group's servers, as the NGINX Plus API makes them.
//
// A change builds a new server set from the group's current list and
// swaps it in (see serverSet): picks in progress finish on the set they
// loaded, later ones see the change. The list lives in the Store, so the
// next reload keeps the change unless the configuration changed that
// server (see mergeServers), and with "state FILE" it is written to the
// file before the call returns.

// Errors of run-time changes, for the API to map to its codes.
var (
	ErrServerNotFound = errors.New("server not found")
	ErrServerExists   = errors.New("server already exists")
	ErrBackupMethod   = errors.New("backup servers are not allowed with this balancing method")
	ErrImmutable      = errors.New("parameter cannot be changed")
)

// PersistError wraps a failure to write the state file after a change
// that took effect: the group serves the new list, but a restart would
// not see it.
type PersistError struct{ Err error }

func (e *PersistError) Error() string { return "state file not written: " + e.Err.Error() }
func (e *PersistError) Unwrap() error { return e.Err }

// ServerConf is one server of a group as configured now, with its id.
type ServerConf struct {
	ID int
	ServerSpec
}

// ServerConfs lists the servers with their ids, in serving order.
func (g *Group) ServerConfs() []ServerConf {
	sv := g.set.Load()
	out := make([]ServerConf, len(sv.peers))
	for i, p := range sv.peers {
		out[i] = ServerConf{ID: p.id, ServerSpec: p.conf}
	}
	return out
}

// ServerConf returns the server with the given id.
func (g *Group) ServerConf(id int) (ServerConf, bool) {
	p := g.PeerByID(id)
	if p == nil {
		return ServerConf{}, false
	}
	return ServerConf{ID: p.id, ServerSpec: p.conf}, true
}

// AddServer adds a server at run time and returns it with its new id.
// Parameters the caller leaves zero should carry nginx's defaults
// (DefaultWeight, DefaultMaxFails, DefaultFailTimeout).
func (g *Group) AddServer(s ServerSpec) (ServerConf, error) {
	var id int
	err := g.change(func(list []ServerSpec) ([]ServerSpec, error) {
		if err := checkServer(g.name, &s); err != nil {
			return nil, err
		}
		if s.Backup && !g.backupAllowed() {
			return nil, ErrBackupMethod
		}
		if slices.ContainsFunc(list, func(o ServerSpec) bool { return o.Addr == s.Addr }) {
			return nil, fmt.Errorf("%w: %s", ErrServerExists, s.Addr)
		}
		return append(list, s), nil
	})
	if err != nil && !isPersist(err) {
		return ServerConf{}, err
	}
	g.gs.mu.Lock()
	if st := g.gs.peers[s.Addr]; st != nil {
		id = st.id
	}
	g.gs.mu.Unlock()
	return ServerConf{ID: id, ServerSpec: s}, err
}

// RemoveServer removes the server with the given id. Requests in flight
// on it finish; it takes no new ones.
func (g *Group) RemoveServer(id int) error {
	return g.change(func(list []ServerSpec) ([]ServerSpec, error) {
		i := g.gs.indexOf(list, id)
		if i < 0 {
			return nil, ErrServerNotFound
		}
		return slices.Delete(list, i, i+1), nil
	})
}

// UpdateServer changes the server with the given id: edit receives a copy
// of its parameters to change. The address and "backup" cannot change
// (the server's state and id belong to its address).
func (g *Group) UpdateServer(id int, edit func(*ServerSpec) error) (ServerConf, error) {
	var out ServerSpec
	err := g.change(func(list []ServerSpec) ([]ServerSpec, error) {
		i := g.gs.indexOf(list, id)
		if i < 0 {
			return nil, ErrServerNotFound
		}
		s := list[i]
		if err := edit(&s); err != nil {
			return nil, err
		}
		if s.Addr != list[i].Addr || s.Backup != list[i].Backup {
			return nil, ErrImmutable
		}
		if err := checkServer(g.name, &s); err != nil {
			return nil, err
		}
		list[i] = s
		out = s
		return list, nil
	})
	if err != nil && !isPersist(err) {
		return ServerConf{}, err
	}
	return ServerConf{ID: id, ServerSpec: out}, err
}

// indexOf finds the server with the given id in list, by the ids of the
// live state (the same for every Group of the name); -1 if none. Called
// with gs.mu held.
func (gs *groupState) indexOf(list []ServerSpec, id int) int {
	return slices.IndexFunc(list, func(o ServerSpec) bool {
		st := gs.peers[o.Addr]
		return st != nil && st.id == id
	})
}

func isPersist(err error) bool {
	var pe *PersistError
	return errors.As(err, &pe)
}

// backupAllowed: nginx allows backup servers with round-robin and
// least_conn only.
func (g *Group) backupAllowed() bool {
	return g.kind == kindRR || g.kind == kindLeastConn
}

// change applies edit to a copy of the group's current server list and
// swaps the result in: on the Group built last for this name and, if it
// is another, on g (a request to the API may hold the Group of the
// configuration before a reload that just happened).
func (g *Group) change(edit func([]ServerSpec) ([]ServerSpec, error)) error {
	gs := g.gs
	gs.mu.Lock()
	defer gs.mu.Unlock()
	list, err := edit(slices.Clone(gs.servers))
	if err != nil {
		return err
	}
	states := make(map[string]*peerState, len(list))
	targets := []*Group{g}
	if gs.latest != nil && gs.latest != g {
		targets = append(targets, gs.latest)
	}
	for _, t := range targets {
		t.set.Store(t.buildSet(gs, list, states))
	}
	gs.retire(states)
	gs.peers = states
	gs.servers = list
	if f := gs.latestSpec().StateFile; f != "" {
		if err := WriteState(f, list); err != nil {
			return &PersistError{Err: err}
		}
	}
	return nil
}

// latestSpec is the Spec of the Group built last.
func (gs *groupState) latestSpec() *Spec {
	if gs.latest == nil {
		return &Spec{}
	}
	return &gs.latest.spec
}

// retire remembers the servers that leave (those of gs.peers not in
// next) while they still have requests in flight: the API's "zombies".
// Called with gs.mu held, before gs.peers becomes next.
func (gs *groupState) retire(next map[string]*peerState) {
	for addr, st := range gs.peers {
		if next[addr] == nil && st.conns.Load() > 0 {
			gs.zombies = append(gs.zombies, st)
		}
	}
}

// Zombies is the number of servers removed from the group (through the
// API or a reload) that still have requests in flight.
func (g *Group) Zombies() int {
	gs := g.gs
	gs.mu.Lock()
	defer gs.mu.Unlock()
	live := gs.zombies[:0]
	for _, st := range gs.zombies {
		if st.conns.Load() > 0 {
			live = append(live, st)
		}
	}
	clear(gs.zombies[len(live):])
	gs.zombies = live
	return len(live)
}

// ResetStats zeroes the servers' counters (requests, failures, responses,
// unavailability count, selected time), as the API's DELETE of an
// upstream does. Live state that decides picks (active connections,
// failures within fail_timeout) is kept.
func (g *Group) ResetStats() {
	for _, p := range g.Peers() {
		st := p.st
		st.requests.Store(0)
		st.failures.Store(0)
		st.unavail.Store(0)
		st.selected.Store(0)
		for i := range st.responses {
			st.responses[i].Store(0)
		}
	}
}
