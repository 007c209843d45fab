package upstream

import "cmp"

// leastTimeState is the per-server state of nginx's least_time, in
// milliseconds as nginx keeps it (ngx_msec_t), guarded by peerState.mu.
type leastTimeState struct {
	headerTime   int64 // average time to the response header
	responseTime int64 // average time to the last byte
	inflightReqs int64
	inflightLast int64 // ms spent by in-flight requests, at changed
	changed      int64 // ms when inflightReqs last changed
	inflightTime int64 // average age of in-flight requests
}

// avgMsec is nginx's ngx_http_upstream_response_time_avg: an exponential
// moving average with weight 0.05 for the new sample, rounded; the first
// sample is taken as is.
func avgMsec(avg *int64, v int64) {
	if *avg == 0 {
		*avg = v
		return
	}
	*avg = int64(0.5 + float64(v)*0.05 + float64(*avg)*0.95)
}

func msec(ns int64) int64 { return ns / 1e6 }

// leastTimePick is least_time (NGINX Plus, now open-source nginx's
// ngx_http_upstream_least_time_module.c): the server with the lowest
// estimated time to finish its current work, eta*best.weight <
// best_eta*weight, ties broken by smooth weighted round-robin as
// least_conn does. eta is the average time to the header (or last byte),
// halved for every fail_timeout+1 seconds the server has gone unchecked,
// raised to the average age of its in-flight requests with "inflight",
// capped at 5000 ms (beyond, all are equally bad: least_conn) or rounded
// up to the next 20 ms, then multiplied by (1 + active connections).
//
// The scan takes each server's own mutex (the averages) but not the set's;
// ties take the set's mutex for the round-robin step.
func leastTimePick(c *pickCtx, s *peerSet) *Peer {
	var (
		best           *Peer
		bestEta, bestW int64
		many           bool
	)
	lastByte := c.g.ltLastByte
	for _, p := range s.peers {
		if !c.usable(p) {
			continue
		}
		eta := p.eta(c.clock(), lastByte, true)
		w := p.weight * p.ramp(c)
		if best == nil || eta*bestW < bestEta*w {
			best, bestEta, bestW, many = p, eta, w, false
		} else if eta*bestW == bestEta*w {
			many = true
		}
	}
	if best == nil {
		return nil
	}
	if many {
		best = tieBreak(c, s, best, func(p *Peer) bool {
			return p.eta(c.clock(), lastByte, false)*bestW == bestEta*(p.weight*p.ramp(c))
		})
	}
	if c.ex != nil {
		c.ex.Score = "eta=" + itoa(bestEta) + "ms weight=" + itoa(best.weight)
	}
	return best
}

// eta is nginx's ngx_http_upstream_least_time_eta, in ms. With update, it
// first folds the age of the in-flight requests into their average, as
// the scan in get_least_time_peer does.
func (p *Peer) eta(now int64, lastByte, update bool) int64 {
	st := p.st
	nowMs := msec(now)
	st.mu.Lock()
	lt := &st.lt
	if update && lt.inflightReqs > 0 {
		avgMsec(&lt.inflightTime, lt.inflightLast/lt.inflightReqs+(nowMs-lt.changed))
	}
	rt := lt.headerTime
	if lastByte {
		rt = lt.responseTime
	}
	if lt.inflightReqs > 0 {
		rt = max(rt, lt.inflightTime)
	}
	st.mu.Unlock()

	// Once in fail_timeout, halve the time of an unchecked server to give
	// slow servers a chance (nginx counts in seconds).
	nowS, checkedS, ftS := now/1e9, st.checked.Load()/1e9, p.failTimeout/1e9
	if nowS-checkedS > ftS {
		if sh := (nowS - checkedS) / (ftS + 1); sh < 63 {
			rt >>= uint(sh)
		} else {
			rt = 0
		}
	}
	if rt > 5000 {
		rt = 5000
	} else {
		rt += 20 - rt%20
	}
	return rt * (1 + st.conns.Load())
}

// inflightStart counts a new in-flight request (least_time inflight).
func (st *peerState) inflightStart(now int64) {
	nowMs := msec(now)
	st.mu.Lock()
	lt := &st.lt
	if lt.inflightReqs > 0 {
		lt.inflightLast += (nowMs - lt.changed) * lt.inflightReqs
	}
	lt.changed = nowMs
	lt.inflightReqs++
	st.mu.Unlock()
}

// leastTimeDone ends an in-flight request and, for an attempt that got a
// header and did not fail, folds its times into the averages, as
// ngx_http_upstream_free_least_time_peer does. nginx ends the in-flight
// count of "least_time header inflight" when the header arrives; here it
// ends at Done, with the header time as the request's duration.
func (st *peerState) leastTimeDone(g *Group, now int64, o Outcome) {
	nowMs := msec(now)
	last := msec(int64(o.ResponseTime))
	if !g.ltLastByte {
		last = msec(int64(o.HeaderTime))
	}
	st.mu.Lock()
	lt := &st.lt
	if g.ltInflight && lt.inflightReqs > 0 {
		if lt.inflightReqs == 1 {
			lt.inflightLast = 0
		} else {
			lt.inflightLast = max(lt.inflightLast+(nowMs-lt.changed)*lt.inflightReqs-last, 0)
			lt.changed = nowMs
		}
		lt.inflightReqs--
	}
	// Only attempts that got a header count, "to mitigate preferring of
	// failing peers". A caller that measures only ResponseTime gets it
	// used for both.
	ht := cmp.Or(o.HeaderTime, o.ResponseTime)
	if g.useLT && (o.Result == Success || o.Result == Aborted && ht > 0) {
		avgMsec(&lt.responseTime, msec(int64(max(o.ResponseTime, ht))))
		avgMsec(&lt.headerTime, msec(int64(ht)))
	}
	st.mu.Unlock()
}
