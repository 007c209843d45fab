package upstream

import "math/rand/v2"

// peek draws a server with probability proportional to its weight, as
// nginx's ngx_http_upstream_peek_random_peer: a uniform number below the
// total weight, located among the servers' weight ranges.
func (s *peerSet) peek() int {
	return s.find(int64(rand.Uint64N(uint64(s.total))))
}

// randomPick is nginx's "random" (ngx_http_upstream_get_random_peer in
// ngx_http_upstream_random_module.c): draw servers by weight until an
// eligible one comes up; after 20 draws, or with fewer than two servers,
// round-robin. Lock-free.
func randomPick(c *pickCtx, s *peerSet) *Peer {
	t := c.t
	if t.tries > 20 || len(s.peers) < 2 {
		return rrFallback(c, s, "random after 20 draws")
	}
	for {
		p := s.peers[s.peek()]
		if c.usable(p) {
			return p
		}
		t.tries++
		if t.tries > 20 {
			return rrFallback(c, s, "random after 20 draws")
		}
	}
}

// randomTwoPick is nginx's "random two" (ngx_http_upstream_get_random2_peer):
// draw two distinct eligible servers by weight and take the better one;
// every draw, the first included, counts toward the 20 after which it
// falls back to round-robin. "Better" is:
//
//   - least_conn (nginx): fewer active connections relative to weight; on
//     a tie the second draw wins, as in nginx;
//   - least_time=header|last_byte (beyond nginx): the lower peak-EWMA
//     score, latency EWMA × (active+1) / weight, see peakEWMA. This is the
//     power of two choices over peak EWMA (Finagle, Linkerd): it reacts
//     to a slow server at once and, as the penalty decays, probes it again.
//
// Lock-free, except the per-server mutex of the peak EWMA.
func randomTwoPick(c *pickCtx, s *peerSet) *Peer {
	t := c.t
	if t.tries > 20 || len(s.peers) < 2 {
		return rrFallback(c, s, "random two after 20 draws")
	}
	var prev *Peer
	for {
		p := s.peers[s.peek()]
		if p != prev && c.usable(p) {
			if prev != nil {
				if c.g.usePE {
					a, b := p.peScore(c.clock()), prev.peScore(c.clock())
					if a > b {
						p, a = prev, b
					}
					if c.ex != nil {
						c.ex.Score = "peak_ewma_score=" + formatFloat(a/1e6) + "ms"
					}
				} else {
					pc, qc := p.st.conns.Load(), prev.st.conns.Load()
					if pc*prev.weight > qc*p.weight {
						p, pc = prev, qc
					}
					if c.ex != nil {
						c.ex.Score = "conns=" + itoa(pc) + " weight=" + itoa(p.weight)
					}
				}
				return p
			}
			prev = p
		}
		t.tries++
		if t.tries > 20 {
			return rrFallback(c, s, "random two after 20 draws")
		}
	}
}
