package upstream

// leastConnPick is nginx's least_conn (ngx_http_upstream_least_conn_module.c):
// the server with the fewest active connections relative to its weight
// (conns*best.weight < best.conns*weight), ties broken by smooth weighted
// round-robin among the tied servers, starting from the first of them.
//
// The scan reads atomics without a lock; only a tie takes the set's mutex
// for the round-robin step, re-checking each tied server there.
func leastConnPick(c *pickCtx, s *peerSet) *Peer {
	var (
		best             *Peer
		bestConns, bestW int64
		many             bool
	)
	for _, p := range s.peers {
		if !c.usable(p) {
			continue
		}
		conns := p.st.conns.Load()
		w := p.weight * p.ramp(c)
		if best == nil || conns*bestW < bestConns*w {
			best, bestConns, bestW, many = p, conns, w, false
		} else if conns*bestW == bestConns*w {
			many = true
		}
	}
	if best == nil {
		return nil
	}
	if many {
		best = tieBreak(c, s, best, func(p *Peer) bool {
			return p.st.conns.Load()*bestW == bestConns*(p.weight*p.ramp(c))
		})
	}
	if c.ex != nil {
		c.ex.Score = "conns=" + itoa(bestConns) + " weight=" + itoa(best.weight)
	}
	return best
}

// tieBreak runs nginx's "many" loop: smooth weighted round-robin over the
// servers from best onwards that are still eligible and tie with it.
func tieBreak(c *pickCtx, s *peerSet, best *Peer, tied func(*Peer) bool) *Peer {
	var total int64
	s.mu.Lock()
	cw := s.cw
	chosen := best
	for _, p := range s.peers[best.si:] {
		if c.check(p) != 0 || !tied(p) {
			continue
		}
		ew := p.st.eff.Load()
		e := ew * p.ramp(c)
		cw[p.si] += e
		total += e
		if ew < p.weight {
			p.st.eff.CompareAndSwap(ew, ew+1)
		}
		if cw[p.si] > cw[chosen.si] {
			chosen = p
		}
	}
	cw[chosen.si] -= total
	s.mu.Unlock()
	return chosen
}
