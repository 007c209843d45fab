package health

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"bunsan/internal/config"
	"bunsan/internal/metrics"
	"bunsan/internal/upstream"
)

// Target is one health_check bound to the live group it checks.
type Target struct {
	Check *config.HealthCheck
	Group *upstream.Group
}

// Targets pairs every health_check of m with its group, found by group
// (http groups) and streamGroup (stream groups); either may be nil.
// Checks whose group is not found are left out.
func Targets(m *config.Model, group, streamGroup func(name string) *upstream.Group) []Target {
	var out []Target
	for _, c := range config.HealthOf(m).Checks {
		find := group
		if c.Stream {
			find = streamGroup
		}
		if find == nil || c.Group == "" {
			continue
		}
		if g := find(c.Group); g != nil {
			out = append(out, Target{Check: c, Group: g})
		}
	}
	return out
}

// Options configure a Checker. The zero value is ready: real time, the
// default logger.
type Options struct {
	Clock Clock
	Log   *slog.Logger
	// Jitter returns a random duration in [0, max); tests make it fixed.
	Jitter func(max time.Duration) time.Duration
	// OnResult, if set, is called after every check with its outcome
	// (tests wait on it instead of sleeping).
	OnResult func(Result)
}

// Result is the outcome of one check of one server.
type Result struct {
	Stream bool
	Group  string
	Addr   string
	OK     bool
	Err    error // why it failed; nil when OK
	// Healthy is the server's verdict for this check after it.
	Healthy bool
}

// Checker runs the health checks of one configuration at a time; Start
// replaces them at a reload, keeping each server's state.
type Checker struct {
	opt Options

	mu     sync.Mutex
	cancel context.CancelFunc
	wg     sync.WaitGroup
	// states is every (check, server)'s state, kept across Start calls.
	states map[stateKey]*state
	// byPeer lists the check states of each server, to combine them.
	byPeer map[peerKey][]*state
	// groups is the last group seen for each checked group name, to make
	// servers healthy again when their group loses its checks.
	groups map[peerKey]*upstream.Group
	// rounds are the loops running now.
	rounds []*round
}

type peerKey struct {
	stream      bool
	group, addr string
}

type stateKey struct {
	peerKey
	check string // the check's signature: what decides its verdict
}

// New returns a Checker with nothing to check; call Start.
func New(opt Options) *Checker {
	if opt.Clock == nil {
		opt.Clock = realClock{}
	}
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.Jitter == nil {
		opt.Jitter = func(max time.Duration) time.Duration {
			if max <= 0 {
				return 0
			}
			return rand.N(max)
		}
	}
	return &Checker{opt: opt, states: map[stateKey]*state{}, byPeer: map[peerKey][]*state{}, groups: map[peerKey]*upstream.Group{}}
}

// signature identifies a check across reloads by what decides its verdict.
func signature(c *config.HealthCheck) string {
	return fmt.Sprintf("%s|%s|%d|%s|%s|%d", c.Type, c.URI, c.Port, c.Match, c.GRPCService, c.GRPCStatus)
}

// Start stops the checks running now and starts those of targets, keeping
// the state of every (check, server) that stays. Before it returns, each
// server that must not take traffic yet (mandatory, not yet passed) is
// marked unhealthy, so call it after building the new groups and before
// the new snapshot serves.
func (c *Checker) Start(targets []Target) {
	c.Stop()
	c.mu.Lock()
	defer c.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel

	old := c.states
	c.states = map[stateKey]*state{}
	c.byPeer = map[peerKey][]*state{}
	oldGroups := c.groups
	c.groups = map[peerKey]*upstream.Group{}
	rounds := make([]*round, 0, len(targets))
	for _, t := range targets {
		r := &round{c: c, check: t.Check, group: t.Group, sig: signature(t.Check), old: old}
		for _, p := range t.Group.Peers() {
			r.state(p, true)
		}
		rounds = append(rounds, r)
	}
	// Servers checked before and not now go back to healthy: nothing
	// will ever clear their flag otherwise.
	for k, s := range old {
		if _, still := c.byPeer[k.peerKey]; still {
			continue
		}
		if g := oldGroups[groupKey(k.peerKey)]; g != nil && !s.healthy() {
			if p := g.Peer(k.addr); p != nil {
				p.SetHealthy(true)
			}
		}
	}
	c.rounds = rounds
	for _, r := range rounds {
		c.groups[groupKey(peerKey{stream: r.check.Stream, group: r.group.Name()})] = r.group
		c.wg.Add(1)
		go r.run(ctx)
	}
}

func groupKey(k peerKey) peerKey { return peerKey{stream: k.stream, group: k.group} }

// Stop stops every check and waits for them to end. Verdicts stay.
func (c *Checker) Stop() {
	c.mu.Lock()
	cancel := c.cancel
	c.cancel = nil
	c.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	c.wg.Wait()
}

// Status is a server's health-check figures, as the NGINX Plus API's
// "health_checks" object.
type Status struct {
	Checks uint64 `json:"checks"`
	Fails  uint64 `json:"fails"`
	// Unhealthy counts the times the server became unhealthy.
	Unhealthy  uint64 `json:"unhealthy"`
	LastPassed bool   `json:"last_passed"`
	// Healthy is the combined verdict of every check of the server;
	// Checking is set while a mandatory check has not run yet.
	Healthy  bool `json:"-"`
	Checking bool `json:"-"`
}

// Status returns the health-check figures of one server (summed over the
// checks of its group); ok is false when no check covers it.
func (c *Checker) Status(stream bool, group, addr string) (st Status, ok bool) {
	c.mu.Lock()
	states := c.byPeer[peerKey{stream, group, addr}]
	c.mu.Unlock()
	if len(states) == 0 {
		return Status{}, false
	}
	st.Healthy, st.LastPassed = true, true
	for _, s := range states {
		s.mu.Lock()
		st.Checks += s.checks
		st.Fails += s.fails
		st.Unhealthy += s.unhealthy
		st.LastPassed = st.LastPassed && s.lastPassed
		st.Healthy = st.Healthy && !s.down
		st.Checking = st.Checking || s.checking
		s.mu.Unlock()
	}
	return st, true
}

// verdict combines the checks of one server and tells its peer.
func (c *Checker) verdict(k peerKey, p *upstream.Peer) {
	c.mu.Lock()
	states := c.byPeer[k]
	c.mu.Unlock()
	ok := true
	for _, s := range states {
		ok = ok && s.healthy()
	}
	p.SetHealthy(ok)
}

// Sync takes in servers added to a group since Start (through the API):
// under a mandatory check they are marked unhealthy at once, before they
// can take a request, instead of at the check's next round. The API calls
// it after adding a server; without it the round still finds the server
// within one interval.
func (c *Checker) Sync(stream bool, group string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range c.rounds {
		if r.check.Stream == stream && r.group.Name() == group {
			for _, p := range r.group.Peers() {
				r.state(p, false)
			}
		}
	}
}

// Metrics is Status in the shape metrics.Options.Health takes.
func (c *Checker) Metrics(stream bool, group, addr string) (metrics.HealthFigures, bool) {
	st, ok := c.Status(stream, group, addr)
	return metrics.HealthFigures{Checks: st.Checks, Fails: st.Fails, Unhealthy: st.Unhealthy, Healthy: st.Healthy}, ok
}
