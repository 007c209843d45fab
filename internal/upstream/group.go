package upstream

import (
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Group is one upstream group as built from a Spec: its servers'
// configuration, fixed for the Group's life, wired to live state that
// belongs to the Store. It is safe for concurrent use: picks and reports
// from any number of goroutines.
//
// How picking avoids serialisation: the availability checks read atomics;
// ip_hash, hash, consistent hash and random take no lock at all. Smooth
// weighted round-robin needs a consistent update of every server's
// current weight, so it runs in a short critical section on a mutex of
// the server set, as nginx takes its peers lock; least_conn and least_time
// scan without that lock and take it only to break ties by round-robin,
// as nginx does. Connection counts are atomics, bumped with a
// compare-and-swap against max_conns so the limit holds under
// concurrency.
type Group struct {
	name  string
	spec  Spec
	clock Clock
	// realClock is set when clock is the real one, so "selected" can use
	// the coarse clock (coarse.go).
	realClock bool
	gs        *groupState

	kind       kind
	methodName string
	sticky     string  // "", "cookie", "route", "learn"
	bound      float64 // balance_factor

	// set is the server set served now; see serverSet.
	set atomic.Pointer[serverSet]

	ltLastByte bool // least_time last_byte (else header)
	ltInflight bool
	useLT      bool // keep least_time averages
	usePE      bool // keep peak EWMA (random two least_time)
}

// kind is the balancing method resolved from a Spec.
type kind uint8

const (
	kindRR kind = iota
	kindLeastConn
	kindIPHash
	kindHash
	kindCHash
	kindRandom
	kindRandomTwo
	kindLeastTime
)

// peerSet is the primary or the backup servers of a Group, with the data
// the methods need over them. cw (nginx's current_weight) is guarded by
// mu; the rest is fixed.
type peerSet struct {
	peers []*Peer
	start []int64 // start[i]: sum of the weights before peers[i]
	total int64   // sum of weights, down servers included (nginx total_weight)

	mu sync.Mutex
	cw []int64

	ring []chashPoint // hash ... consistent, over the primaries
	nUp  int64        // servers not configured down (bounded load)
}

func (s *peerSet) init(peers []*Peer) {
	s.peers = peers
	s.start = make([]int64, len(peers))
	s.cw = make([]int64, len(peers))
	s.total = 0
	for i, p := range peers {
		p.set, p.si = s, i
		s.start[i] = s.total
		s.total += p.weight
	}
}

// find returns the server that weight point w (0 <= w < total) falls on,
// walking servers by weight as nginx's ip_hash and hash do
// ("while (w >= peer->weight) { w -= peer->weight; peer = peer->next; }")
// and random's ranges; by binary search, with the same result.
func (s *peerSet) find(w int64) int {
	i, j := 0, len(s.start)
	for j-i > 1 {
		k := (i + j) / 2
		if w < s.start[k] {
			j = k
		} else {
			i = k
		}
	}
	return i
}

// PickRequest carries what a method needs to choose a server for one
// request or connection, and the request's Tried memory across retries.
type PickRequest struct {
	// ClientAddr is the client address for ip_hash, as nginx sees it (after
	// realip). IPv4 uses its first three octets, IPv6 all sixteen bytes
	// (an IPv4-mapped IPv6 address counts as IPv6, as in nginx; Unmap it
	// if the listener was IPv4). An invalid address hashes like nginx's
	// pseudo address for unix-socket clients.
	ClientAddr netip.Addr
	// HashKey is the evaluated key of "hash KEY". Empty means round-robin,
	// as in current nginx.
	HashKey []byte
	// Route is the sticky value found in the request: the cookie's value
	// (sticky cookie), the first non-empty route variable (sticky route) or
	// the session ID of the lookup variables (sticky learn). "" if none.
	Route string
	// Tried is the request's memory across retries. Nil means a one-off
	// pick (and costs an allocation).
	Tried *Tried
	// Explain, if non-nil, is filled with the reasons for the choice.
	Explain *Explanation
}

// Name is the group's name.
func (g *Group) Name() string { return g.name }

// UsesClientAddr reports whether picks read PickRequest.ClientAddr
// (ip_hash), so that callers parse the client's address only then.
func (g *Group) UsesClientAddr() bool { return g.kind == kindIPHash }

// Spec is the configuration the group was built from. Do not modify it.
func (g *Group) Spec() *Spec { return &g.spec }

// Tries is how many attempts a request may make before giving up, as
// nginx's peer.tries: the number of servers not marked down, backups
// included. proxy_next_upstream_tries lowers it further.
func (g *Group) Tries() int { return g.set.Load().tries }

// Peers lists the servers, primaries first, in configuration order (then
// servers added through the API).
func (g *Group) Peers() []*Peer { return g.set.Load().peers }

// Peer finds a server by its configured address.
func (g *Group) Peer(addr string) *Peer { return g.set.Load().byAddr[addr] }

// PeerByID finds a server by its id (see Peer.ID).
func (g *Group) PeerByID(id int) *Peer { return g.set.Load().byID[id] }

func (g *Group) nowNanos() int64 { return g.clock.Now().UnixNano() }

// pickCtx is one call to Pick. It stays on the stack: it copies what it
// needs from the PickRequest rather than pointing to it, and the server
// sets (whose mutex makes them escape) are passed apart from it.
type pickCtx struct {
	g     *Group
	t     *Tried
	ex    *Explanation
	now   int64 // read from the clock on first need; 0 = not yet
	key   []byte
	addr  netip.Addr
	route string
}

// clock is the time of this pick, read once and only if needed: most
// picks of healthy servers never look at the time.
func (c *pickCtx) clock() int64 {
	if c.now == 0 {
		c.now = c.g.nowNanos()
	}
	return c.now
}

// Pick chooses a server for a request or connection and counts it as
// active until Done. A retry passes the same Tried and gets a server not
// yet tried. It returns ErrNoLiveUpstreams when none is left.
//
// Order of choice: a server bound by a sticky Route (draining servers
// included); else the method over the primary servers; if none of them
// can take it, the backup servers by round-robin (least_conn and
// least_time keep their method), and later retries of the request stay
// with the backups, as in nginx.
func (g *Group) Pick(r *PickRequest) (*Peer, error) {
	t := r.Tried
	if t == nil {
		t = new(Tried)
	}
	t.start(g.set.Load(), g.kind)
	// The set comes from Tried, so retries stay on the set the request
	// started on. It is passed apart from pickCtx, as the peer sets are
	// (their mutexes make them escape, and would take the Tried along).
	sv := t.sv
	c := pickCtx{g: g, t: t, ex: r.Explain, key: r.HashKey, addr: r.ClientAddr, route: r.Route}
	if c.ex != nil && c.ex.Method == "" {
		c.ex.Method = g.methodName
	}
	for {
		p := c.choose(g, sv)
		if p == nil {
			if c.ex != nil {
				c.ex.Winner = ""
			}
			return nil, ErrNoLiveUpstreams
		}
		if c.take(p) {
			if c.ex != nil {
				c.ex.Winner = p.addr
			}
			return p, nil
		}
		// Lost a race for its last max_conns slot: leave it for this
		// request and choose again.
		c.skip(p, SkipMaxConns)
		t.set(p.index)
	}
}

func (c *pickCtx) choose(g *Group, sv *serverSet) *Peer {
	if g.sticky != "" && c.route != "" {
		if p := c.stickyPeer(sv); p != nil {
			return p
		}
	}
	if sv.single {
		return c.singlePeer(sv)
	}
	if !c.t.backup {
		// The API may leave a group with no primary server (or none at
		// all); the methods assume a non-empty set.
		if len(sv.primary.peers) > 0 {
			if p := c.method(&sv.primary, g.kind); p != nil {
				if c.ex != nil {
					for _, b := range sv.backup.peers {
						c.skip(b, SkipBackup)
					}
				}
				return p
			}
		}
		if len(sv.backup.peers) == 0 {
			return nil
		}
		c.t.backup = true
		if c.ex != nil {
			c.ex.fallback("backup servers")
		}
	}
	switch g.kind {
	case kindLeastConn:
		return leastConnPick(c, &sv.backup)
	case kindLeastTime:
		return leastTimePick(c, &sv.backup)
	}
	return wrrPick(c, &sv.backup)
}

func (c *pickCtx) method(s *peerSet, k kind) *Peer {
	switch k {
	case kindLeastConn:
		return leastConnPick(c, s)
	case kindIPHash:
		return ipHashPick(c, s)
	case kindHash:
		return hashPick(c, s)
	case kindCHash:
		return chashPick(c, s)
	case kindRandom:
		return randomPick(c, s)
	case kindRandomTwo:
		return randomTwoPick(c, s)
	case kindLeastTime:
		return leastTimePick(c, s)
	}
	return wrrPick(c, s)
}

// singlePeer is nginx's peers->single case: with one server and no
// backup, the server is always tried unless it is down or full; failures
// never make it unavailable.
func (c *pickCtx) singlePeer(sv *serverSet) *Peer {
	p := sv.peers[0]
	if c.t.has(0) {
		c.skip(p, SkipTried)
		return nil
	}
	if r := p.avail(c, false, true); r != 0 {
		c.skip(p, r)
		return nil
	}
	return p
}

// check applies, once for every method, what makes a server ineligible
// for this request now. 0 means eligible.
func (c *pickCtx) check(p *Peer) SkipReason {
	if c.t.has(p.index) {
		return SkipTried
	}
	return p.avail(c, false, false)
}

// usable is check, recording the reason in the explanation.
func (c *pickCtx) usable(p *Peer) bool {
	r := c.check(p)
	if r == 0 {
		return true
	}
	c.skip(p, r)
	return false
}

func (c *pickCtx) skip(p *Peer, r SkipReason) {
	if c.ex != nil {
		c.ex.Skipped = append(c.ex.Skipped, Skip{Addr: p.addr, Reason: r})
	}
}

// Clock gives the current time. Tests inject a fake one to move through
// fail_timeout and slow_start without sleeping.
type Clock interface{ Now() time.Time }

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }
