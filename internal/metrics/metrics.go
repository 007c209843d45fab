package metrics

import (
	"net/http"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"bunsan/internal/upstream"
)

// Options say where the figures that are not counted here come from.
type Options struct {
	// HTTP and Stream return the upstream groups served now (nil: none).
	HTTP   func() []*upstream.Group
	Stream func() []*upstream.Group
	// Health, when set, gives a server's health-check figures
	// (health.Checker.Metrics). A function rather than the checker, so
	// that the data path, which imports metrics, stays clear of health.
	Health func(stream bool, group, addr string) (HealthFigures, bool)
	// Version is what /api/9/nginx reports as "version".
	Version string
	// Now is the clock of /api/9/nginx's timestamps (nil: time.Now).
	Now func() time.Time
}

// HealthFigures are one server's active health-check counts.
type HealthFigures struct {
	Checks, Fails, Unhealthy uint64
	Healthy                  bool
}

// Metrics is the process's counters, carried across reloads: make one,
// keep it for the life of the process.
type Metrics struct {
	opt   Options
	conns Conns

	mu    sync.RWMutex
	zones map[string]*Zone
	peers map[peerID]*Peer

	generation atomic.Int64
	loadedAt   atomic.Int64 // unix ms of the last Loaded

	reg *prometheus.Registry
}

type peerID struct {
	stream      bool
	group, addr string
}

// New returns empty counters. Call Loaded after each configuration is
// applied.
func New(opt Options) *Metrics {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Version == "" {
		opt.Version = "bunsan"
	}
	m := &Metrics{opt: opt, zones: map[string]*Zone{}, peers: map[peerID]*Peer{}}
	m.loadedAt.Store(opt.Now().UnixMilli())
	m.reg = prometheus.NewRegistry()
	m.reg.MustRegister(collector{m})
	return m
}

// Loaded records that a configuration was applied (NGINX Plus's
// "generation" and "load_timestamp").
func (m *Metrics) Loaded() {
	m.generation.Add(1)
	m.loadedAt.Store(m.opt.Now().UnixMilli())
}

// Conns is the connection and request counter for stub_status.
func (m *Metrics) Conns() *Conns { return &m.conns }

// Zone returns the counters of the server zone name, the same handle for
// the same name: look it up when building a snapshot, not per request.
func (m *Metrics) Zone(name string) *Zone {
	m.mu.RLock()
	z := m.zones[name]
	m.mu.RUnlock()
	if z != nil {
		return z
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if z = m.zones[name]; z == nil {
		z = &Zone{name: name}
		m.zones[name] = z
	}
	return z
}

// Peer returns the latency and byte counters of one upstream server. It
// takes a read lock and allocates nothing once the server was seen.
func (m *Metrics) Peer(stream bool, group, addr string) *Peer {
	id := peerID{stream, group, addr}
	m.mu.RLock()
	p := m.peers[id]
	m.mu.RUnlock()
	if p != nil {
		return p
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if p = m.peers[id]; p == nil {
		p = newPeer(stream, group, addr)
		m.peers[id] = p
	}
	return p
}

// Handler serves the Prometheus exposition (text or protobuf, as the
// scraper asks).
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Registry is the registry behind Handler, for tests and for adding
// collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// sortedZones lists the zones by name.
func (m *Metrics) sortedZones() []*Zone {
	m.mu.RLock()
	out := make([]*Zone, 0, len(m.zones))
	for _, z := range m.zones {
		out = append(out, z)
	}
	m.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// groups lists the live groups, http then stream.
func (m *Metrics) groups() []groupRef {
	var out []groupRef
	for _, src := range []struct {
		f      func() []*upstream.Group
		stream bool
	}{{m.opt.HTTP, false}, {m.opt.Stream, true}} {
		if src.f == nil {
			continue
		}
		gs := append([]*upstream.Group(nil), src.f()...)
		sort.Slice(gs, func(i, j int) bool { return gs[i].Name() < gs[j].Name() })
		for _, g := range gs {
			out = append(out, groupRef{g, src.stream})
		}
	}
	return out
}

type groupRef struct {
	g      *upstream.Group
	stream bool
}

// prune drops the counters of servers no longer in any group, so that
// label sets stay bounded by the configuration.
func (m *Metrics) prune(live map[peerID]bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for id := range m.peers {
		if !live[id] {
			delete(m.peers, id)
		}
	}
}

var pid = os.Getpid()

// EndpointHandler is the handler of a location's status endpoint, by the
// kind config.Health.Endpoint names ("stub_status", "prometheus"), or nil.
func (m *Metrics) EndpointHandler(kind string) http.Handler {
	switch kind {
	case "stub_status":
		return m.StubStatus()
	case "prometheus":
		return m.Handler()
	}
	return nil
}
