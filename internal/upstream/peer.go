package upstream

import (
	"crypto/md5"
	"encoding/hex"
	"sync"
	"sync/atomic"
	"time"
)

// Peer is one server of a Group: its configuration, fixed for the life of
// the Group, and a pointer to its live state, which belongs to the Store
// and carries over to the next Group built for the same (group, address).
//
// Pick hands out a *Peer; the caller reports the attempt's end with
// Group.Done exactly once per Pick.
type Peer struct {
	g      *Group
	id     int  // stable for the life of the server in the group
	index  int  // position in the server set: the bit in Tried
	single bool // the set's only server (nginx's peers->single)
	set    *peerSet
	si     int // position in set.peers: the slot in set.cw

	addr        string
	name        string // address as written (ServerSpec.Written or Addr)
	route       string
	sid         string // sticky server ID: route, or md5(addr) in hex
	weight      int64
	maxConns    int64
	maxFails    int32
	failTimeout int64 // ns
	slowStart   int64 // ns
	backup      bool
	down        bool // configured "down"
	drain       bool // configured "drain"
	conf        ServerSpec

	st *peerState
}

// ID identifies the server within its group, as the NGINX Plus API's
// "id": assigned when the server joins (configuration order first), kept
// across reloads and API changes while it stays, never reused.
func (p *Peer) ID() int { return p.id }

// Addr is the server's address as written in the configuration.
func (p *Peer) Addr() string { return p.addr }

// Route is the server's "route=" parameter, "" if none.
func (p *Peer) Route() string { return p.route }

// StickyID identifies the server in sticky cookies, routes and learned
// sessions: the route= parameter if set, otherwise the hex MD5 of the
// address (32 characters), like nginx's server ID.
func (p *Peer) StickyID() string { return p.sid }

// Weight is the configured weight.
func (p *Peer) Weight() int { return int(p.weight) }

// Backup reports whether the server is a backup server.
func (p *Peer) Backup() bool { return p.backup }

// Active is the number of attempts in progress on the server.
func (p *Peer) Active() int64 { return p.st.conns.Load() }

// SetDrain puts the server into (or out of) drain at run time: it takes no
// new requests except those bound to it by a sticky key. The flag is live
// state: it survives a reload while the server stays in the group. A
// server configured with "drain" drains whatever this flag says.
func (p *Peer) SetDrain(on bool) { p.st.setFlag(flagDrain, on) }

// Draining reports whether the server is draining (configured or set).
func (p *Peer) Draining() bool { return p.drain || p.st.flags.Load()&flagDrain != 0 }

// SetDown marks the server down (or up again) at run time, as the API's
// "down" does. A server configured "down" stays down.
func (p *Peer) SetDown(on bool) { p.st.setFlag(flagDown, on) }

// SetHealthy records the verdict of active health checks. An unhealthy
// server takes no requests; when it becomes healthy again its weight
// ramps up over slow_start.
func (p *Peer) SetHealthy(ok bool) {
	was := p.st.setFlag(flagUnhealthy, !ok)
	if ok && was && p.slowStart > 0 {
		p.st.recoverAt.Store(p.g.nowNanos())
	}
}

// Healthy reports the last health-check verdict (true if never checked).
func (p *Peer) Healthy() bool { return p.st.flags.Load()&flagUnhealthy == 0 }

// Flags of peerState.flags.
const (
	flagDrain uint32 = 1 << iota
	flagDown
	flagUnhealthy
)

// peerState is the live state of one server, kept by the Store under
// (group name, address) and shared by every Group built for it. Hot
// fields are atomics; the latency averages of least_time and peak EWMA
// sit behind a per-server mutex that only those methods take.
type peerState struct {
	conns     atomic.Int64 // attempts in progress (nginx: peer->conns)
	fails     atomic.Int32 // failures counted (nginx: peer->fails)
	accessed  atomic.Int64 // ns of the last failure (nginx: peer->accessed)
	checked   atomic.Int64 // ns (nginx: peer->checked)
	eff       atomic.Int64 // effective weight (nginx: peer->effective_weight)
	weight    atomic.Int64 // weight it was last built with
	flags     atomic.Uint32
	recoverAt atomic.Int64 // ns when slow start began; 0 = not ramping
	requests  atomic.Uint64
	failures  atomic.Uint64
	unavail   atomic.Uint64    // times max_fails made it unavailable
	selected  atomic.Int64     // ns of the last pick
	responses [5]atomic.Uint64 // responses by class, 1xx to 5xx
	id        int              // fixed at creation

	mu sync.Mutex
	lt leastTimeState
	pe peakEWMA
}

func (s *peerState) setFlag(f uint32, on bool) (was bool) {
	for {
		old := s.flags.Load()
		nw := old &^ f
		if on {
			nw |= f
		}
		if s.flags.CompareAndSwap(old, nw) {
			return old&f != 0
		}
	}
}

func newPeerState(weight int64) *peerState {
	s := &peerState{}
	s.eff.Store(weight)
	s.weight.Store(weight)
	return s
}

func stickyID(route, addr string) string {
	if route != "" {
		return route
	}
	sum := md5.Sum([]byte(addr))
	return hex.EncodeToString(sum[:])
}

// rampScale is the fixed-point unit of weights inside the selection
// arithmetic, so that slow start can give a fraction of a weight. Every
// weight is multiplied by it, which changes no comparison of nginx's
// algorithms.
const rampScale = 1024

// ramp is the slow-start factor in 1/rampScale: rampScale when the server
// is not ramping, otherwise growing linearly from 1 to rampScale over
// slow_start since recovery.
func (p *Peer) ramp(c *pickCtx) int64 {
	if p.slowStart == 0 {
		return rampScale
	}
	r := p.st.recoverAt.Load()
	if r == 0 {
		return rampScale
	}
	el := c.clock() - r
	if el >= p.slowStart {
		p.st.recoverAt.CompareAndSwap(r, 0)
		return rampScale
	}
	v := max(el, 0) * rampScale / p.slowStart
	return max(v, 1)
}

// unavailableUntil is when a failed server may be tried again, or zero.
func (p *Peer) unavailableUntil(now int64) time.Time {
	st := p.st
	if p.maxFails > 0 && st.fails.Load() >= p.maxFails {
		if c := st.checked.Load(); now-c <= p.failTimeout {
			return time.Unix(0, c+p.failTimeout)
		}
	}
	return time.Time{}
}
