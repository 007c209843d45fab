package metrics

import (
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Peer is the per-attempt counts of one upstream server that the upstream
// package does not keep: bytes and latency histograms.
type Peer struct {
	received atomic.Uint64 // from the server
	sent     atomic.Uint64 // to the server
	connect  prometheus.Histogram
	header   prometheus.Histogram
	response prometheus.Histogram
}

// Buckets of the latency histograms, in seconds: 1 ms to 60 s.
var latencyBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}

func newPeer(stream bool, group, addr string) *Peer {
	labels := prometheus.Labels{"upstream": group, "server": addr, "protocol": protocol(stream)}
	h := func(name, help string) prometheus.Histogram {
		return prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "bunsan_upstream_server_" + name + "_seconds", Help: help,
			Buckets: latencyBuckets, ConstLabels: labels,
		})
	}
	return &Peer{
		connect:  h("connect_duration", "Time to connect to the upstream server."),
		header:   h("header_duration", "Time from connecting to the upstream server's response header."),
		response: h("response_duration", "Time from connecting to the end of the upstream server's response."),
	}
}

func protocol(stream bool) string {
	if stream {
		return "stream"
	}
	return "http"
}

// Observe records one attempt on the server: bytes sent to it and received
// from it, and its connect, header and response times (zero or negative
// when the attempt did not get that far: not observed).
func (p *Peer) Observe(sent, received int64, connect, header, response time.Duration) {
	p.sent.Add(uint64(max(sent, 0)))
	p.received.Add(uint64(max(received, 0)))
	if connect > 0 {
		p.connect.Observe(connect.Seconds())
	}
	if header > 0 {
		p.header.Observe(header.Seconds())
	}
	if response > 0 {
		p.response.Observe(response.Seconds())
	}
}

// Latency returns how many responses of the server were timed and their
// total response time, for averages over an interval (the dashboard).
// ok is false when the server has no counters yet.
func (m *Metrics) Latency(stream bool, group, addr string) (n uint64, total time.Duration, ok bool) {
	m.mu.RLock()
	p := m.peers[peerID{stream, group, addr}]
	m.mu.RUnlock()
	if p == nil {
		return 0, 0, false
	}
	var d dto.Metric
	if err := p.response.Write(&d); err != nil || d.Histogram == nil {
		return 0, 0, false
	}
	return d.Histogram.GetSampleCount(), time.Duration(d.Histogram.GetSampleSum() * float64(time.Second)), true
}
