package upstream

import (
	"cmp"
	"math"
	"time"
)

// peakDecay is the time constant of the peak EWMA: a sample's weight
// falls to 1/e after this long.
const peakDecay = 10 * time.Second

// peakPenalty is the score of a server that has work in flight but no
// latency sample yet, so unknown servers are probed but not flooded.
const peakPenalty = float64(time.Second)

// peakEWMA is a peak-sensitive moving average of latency (beyond nginx;
// Finagle's and Linkerd's "peak EWMA"): a sample above the average
// replaces it at once; a lower one is blended in with weight
// 1-exp(-Δt/peakDecay). When reading, the average decays toward zero
// with the time since the last sample, so a server that was slow once
// and then left alone is tried again. Guarded by peerState.mu.
type peakEWMA struct {
	cost  float64 // ns
	stamp int64   // ns of the last sample
}

func (e *peakEWMA) observe(now int64, rtt float64) {
	dt := float64(max(now-e.stamp, 0))
	e.stamp = now
	if rtt > e.cost {
		e.cost = rtt
		return
	}
	w := math.Exp(-dt / float64(peakDecay))
	e.cost = e.cost*w + rtt*(1-w)
}

func (e *peakEWMA) decayed(now int64) float64 {
	dt := float64(max(now-e.stamp, 0))
	return e.cost * math.Exp(-dt/float64(peakDecay))
}

// peScore is the power-of-two-choices score: decayed latency × (active
// connections + 1) / weight; lower is better.
func (p *Peer) peScore(now int64) float64 {
	st := p.st
	st.mu.Lock()
	cost := st.pe.decayed(now)
	st.mu.Unlock()
	active := float64(st.conns.Load())
	if cost == 0 && active > 0 {
		return (peakPenalty + active) / float64(p.weight)
	}
	return cost * (active + 1) / float64(p.weight)
}

// peDone feeds an attempt's latency into the peak EWMA: the header time
// (or last byte, per least_time=), or for a failure the time it took to
// fail, so a server that times out looks as slow as it is.
func (st *peerState) peDone(g *Group, now int64, o Outcome) {
	var rtt time.Duration
	switch {
	case o.Result == Aborted || o.Result == Next:
		return
	case o.Result.Failed():
		rtt = max(o.ConnectTime, o.HeaderTime, o.ResponseTime)
	case g.ltLastByte:
		rtt = cmp.Or(o.ResponseTime, o.HeaderTime)
	default:
		rtt = cmp.Or(o.HeaderTime, o.ResponseTime)
	}
	st.mu.Lock()
	st.pe.observe(now, float64(rtt))
	st.mu.Unlock()
}
