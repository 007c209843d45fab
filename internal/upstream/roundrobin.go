package upstream

// wrrPick is nginx's smooth weighted round-robin, the default method and
// every other method's fallback (ngx_http_upstream_get_peer in
// ngx_http_upstream_round_robin.c): each eligible server's current weight
// grows by its effective weight, the largest wins and loses the total.
// Weights 5,1,1 give a a b a c a a. A failure lowers the effective weight
// by weight/max_fails (see Done); each pick that passes over the server
// gives one back, so a recovering server returns to its share smoothly.
//
// It runs under the set's mutex, the one critical section of the
// package: the algorithm needs a consistent view of all current weights.
// Slow start scales the effective weight by the ramp (weights are in
// 1/rampScale units, which changes no comparison).
func wrrPick(c *pickCtx, s *peerSet) *Peer {
	var (
		best  *Peer
		total int64
	)
	s.mu.Lock()
	cw := s.cw
	for i, p := range s.peers {
		if !c.usable(p) {
			continue
		}
		ew := p.st.eff.Load()
		w := ew * p.ramp(c)
		cw[i] += w
		total += w
		if ew < p.weight {
			p.st.eff.CompareAndSwap(ew, ew+1)
		}
		if best == nil || cw[i] > cw[best.si] {
			best = p
		}
	}
	if best != nil {
		cw[best.si] -= total
	}
	var bestCW int64
	if best != nil && c.ex != nil {
		bestCW = cw[best.si] + total
	}
	s.mu.Unlock()
	if best != nil && c.ex != nil {
		c.ex.Score = "current_weight=" + itoa(bestCW/rampScale) + " total=" + itoa(total/rampScale) +
			" effective_weight=" + itoa(best.st.eff.Load())
	}
	return best
}

// rrFallback is the round-robin a hash-like method falls back to, noted
// in the explanation.
func rrFallback(c *pickCtx, s *peerSet, why string) *Peer {
	if c.ex != nil {
		c.ex.fallback("round_robin: " + why)
	}
	return wrrPick(c, s)
}
