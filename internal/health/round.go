package health

import (
	"context"
	"time"

	"bunsan/internal/config"
	"bunsan/internal/upstream"
)

// round is the loop of one health_check over its group's servers.
type round struct {
	c     *Checker
	check *config.HealthCheck
	group *upstream.Group
	sig   string
	// old is the state before the Start that made this round, consulted
	// once per server to carry its verdict over.
	old map[stateKey]*state
	// started is when the current round began (Clock time).
	started time.Time
}

// state returns the state of p for this check, making it (and carrying
// over the previous one) on first sight. The caller holds c.mu. A new
// state that must not take traffic yet marks p unhealthy at once.
func (r *round) state(p *upstream.Peer, reload bool) *state {
	k := stateKey{peerKey{r.check.Stream, r.group.Name(), p.Addr()}, r.sig}
	if s := r.c.states[k]; s != nil {
		return s
	}
	s := r.old[k]
	switch {
	case s == nil:
		s = &state{}
		if r.check.Mandatory {
			s.down, s.checking = true, true
		}
	case reload && r.check.Mandatory && !(r.check.Persistent && !s.down):
		// NGINX Plus: mandatory servers are "checking" again after a
		// reload, unless persistent and healthy before it.
		s.mu.Lock()
		s.down, s.checking = true, true
		s.mu.Unlock()
	}
	r.c.states[k] = s
	r.c.byPeer[k.peerKey] = append(r.c.byPeer[k.peerKey], s)
	if s.isDown() {
		p.SetHealthy(false)
	}
	return s
}

// run checks the group's servers every interval until ctx ends.
func (r *round) run(ctx context.Context) {
	defer r.c.wg.Done()
	clock := r.c.opt.Clock
	for {
		r.started = clock.Now()
		peers := r.group.Peers()
		n := len(peers)
		// Servers still "checking" go first, at once: they take no
		// traffic until checked.
		order := make([]*upstream.Peer, 0, n)
		var rest []*upstream.Peer
		r.c.mu.Lock()
		for _, p := range peers {
			if s := r.state(p, false); s.isChecking() {
				order = append(order, p)
			} else {
				rest = append(rest, p)
			}
		}
		r.c.mu.Unlock()
		checking := len(order)
		order = append(order, rest...)
		for i, p := range order {
			var at time.Duration
			if i >= checking {
				at = r.check.Interval*time.Duration(i)/time.Duration(n) + r.c.opt.Jitter(r.check.Jitter)
			}
			if !r.wait(ctx, at) {
				return
			}
			r.launch(ctx, p)
		}
		if !r.wait(ctx, r.check.Interval) {
			return
		}
	}
}

// wait blocks until offset into the current round, or ctx ends.
func (r *round) wait(ctx context.Context, offset time.Duration) bool {
	clock := r.c.opt.Clock
	d := r.started.Add(offset).Sub(clock.Now())
	if d <= 0 {
		return ctx.Err() == nil
	}
	return clock.Sleep(ctx, d)
}

// launch checks p in its own goroutine unless its last check still runs.
func (r *round) launch(ctx context.Context, p *upstream.Peer) {
	r.c.mu.Lock()
	s := r.state(p, false)
	r.c.mu.Unlock()
	if !s.begin() {
		return
	}
	r.c.wg.Add(1)
	go func() {
		defer r.c.wg.Done()
		err := probe(ctx, r.check, r.check.CheckAddr(p.Addr()))
		// The check is over before anyone hears of it, so that the next
		// round (which a listener may trigger) does not skip the server.
		s.end()
		if ctx.Err() != nil {
			return // stopped: a cancelled check is no verdict
		}
		healthy, changed := s.record(err == nil, r.check.Fails, r.check.Passes)
		k := peerKey{r.check.Stream, r.group.Name(), p.Addr()}
		r.c.verdict(k, p)
		switch {
		case changed && !healthy:
			// nginx logs a server leaving the rotation at warn level.
			r.c.opt.Log.Warn("upstream server is unhealthy", "upstream", k.group, "server", k.addr, "error", err)
		case changed:
			r.c.opt.Log.Warn("upstream server is healthy again", "upstream", k.group, "server", k.addr)
		case err != nil:
			r.c.opt.Log.Debug("health check failed", "upstream", k.group, "server", k.addr, "error", err)
		}
		if f := r.c.opt.OnResult; f != nil {
			f(Result{Stream: k.stream, Group: k.group, Addr: k.addr, OK: err == nil, Err: err, Healthy: healthy})
		}
	}()
}
