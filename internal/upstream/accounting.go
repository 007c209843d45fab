package upstream

// avail is the server's own availability, nginx's checks in get_peer:
// down; max_fails failures within fail_timeout of the last check; max_conns
// reached. Draining servers are available only to sticky requests.
func (p *Peer) avail(c *pickCtx, sticky, ignoreFails bool) SkipReason {
	st := p.st
	f := st.flags.Load()
	if p.down || f&flagDown != 0 {
		return SkipDown
	}
	if f&flagUnhealthy != 0 {
		return SkipUnhealthy
	}
	if !sticky && (p.drain || f&flagDrain != 0) {
		return SkipDraining
	}
	if !ignoreFails && p.maxFails > 0 && st.fails.Load() >= p.maxFails && c.clock()-st.checked.Load() <= p.failTimeout {
		return SkipFailed
	}
	if p.maxConns > 0 && st.conns.Load() >= p.maxConns {
		return SkipMaxConns
	}
	return 0
}

// take counts the chosen server as active and marks it tried, as the
// end of nginx's get_peer does (peer->conns++; checked = now if older
// than fail_timeout; tried bit). It fails only when a concurrent pick took
// the last max_conns slot first.
func (c *pickCtx) take(p *Peer) bool {
	st := p.st
	if p.maxConns > 0 {
		for {
			n := st.conns.Load()
			if n >= p.maxConns {
				return false
			}
			if st.conns.CompareAndSwap(n, n+1) {
				break
			}
		}
	} else {
		st.conns.Add(1)
	}
	// nginx refreshes checked on every pick once fail_timeout has passed.
	// It matters only while failures are counted (for "accessed <
	// checked" in Done) and to least_time (an unchecked server's time
	// decays), and a failure sets it anyway, so the clock is read only then.
	if st.fails.Load() != 0 || c.g.useLT {
		if now := c.clock(); now-st.checked.Load() > p.failTimeout {
			st.checked.Store(now)
		}
	}
	c.t.set(p.index)
	c.g.gs.inflight.Add(1)
	st.requests.Add(1)
	st.selected.Store(c.selectedNow()) // see coarse.go
	if c.g.ltInflight {
		st.inflightStart(c.clock())
	}
	return true
}

// Done reports how the attempt on p ended; call it exactly once for each
// successful Pick. It releases the connection slot and feeds passive
// health, slow start and the latency averages, as nginx's
// ngx_http_upstream_free_round_robin_peer (and least_time's free) do:
//
//   - a failure counts fails++, sets accessed and checked to now and lowers
//     the effective weight by weight/max_fails (to no less than zero);
//   - any other result clears fails if the server was checked after its
//     last failure (accessed < checked), and starts slow start if that
//     ends a period of unavailability;
//   - with a single server and no backup nothing is counted.
func (g *Group) Done(p *Peer, o Outcome) {
	if p == nil {
		return
	}
	pg := p.g
	st := p.st
	st.conns.Add(-1)
	pg.gs.inflight.Add(-1)
	if pg.ltInflight || pg.useLT {
		st.leastTimeDone(pg, pg.nowNanos(), o)
	}
	if pg.usePE {
		st.peDone(pg, pg.nowNanos(), o)
	}
	failed := o.Result.Failed()
	if failed {
		st.failures.Add(1)
	}
	if o.Status >= 100 && o.Status < 600 {
		st.responses[o.Status/100-1].Add(1)
	}
	if p.single {
		return
	}
	if failed {
		now := pg.nowNanos()
		if n := st.fails.Add(1); p.maxFails > 0 && n == p.maxFails {
			st.unavail.Add(1)
		}
		st.accessed.Store(now)
		st.checked.Store(now)
		if p.maxFails > 0 {
			if d := p.weight / int64(p.maxFails); d > 0 {
				for {
					e := st.eff.Load()
					if st.eff.CompareAndSwap(e, max(e-d, 0)) {
						break
					}
				}
			}
		}
		return
	}
	if st.fails.Load() != 0 && st.accessed.Load() < st.checked.Load() {
		old := st.fails.Swap(0)
		if p.slowStart > 0 && p.maxFails > 0 && old >= p.maxFails {
			st.recoverAt.Store(pg.nowNanos())
		}
	}
}
