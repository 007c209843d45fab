package metrics

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"bunsan/internal/upstream"
)

// collector builds every metric at scrape time from the counters, the
// groups and the health checker. It describes nothing up front (an
// "unchecked" collector) because its label sets follow the configuration.
type collector struct{ m *Metrics }

func (collector) Describe(chan<- *prometheus.Desc) {}

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc("bunsan_"+name, help, labels, nil)
}

var (
	dAccepted = desc("connections_accepted_total", "Client connections accepted.")
	dHandled  = desc("connections_handled_total", "Client connections handled.")
	dConns    = desc("connections", "Client connections by state (active = reading + writing + waiting).", "state")
	dRequests = desc("http_requests_total", "Client requests.")

	zLabels     = []string{"zone"}
	dZoneReq    = desc("server_zone_requests_total", "Requests of a server zone.", zLabels...)
	dZoneResp   = desc("server_zone_responses_total", "Responses of a server zone by status class.", "zone", "code")
	dZoneProc   = desc("server_zone_processing", "Requests of a server zone in progress.", zLabels...)
	dZoneDisc   = desc("server_zone_discarded_total", "Requests of a server zone ended without a response.", zLabels...)
	dZoneRecv   = desc("server_zone_received_bytes_total", "Bytes received from clients by a server zone.", zLabels...)
	dZoneSent   = desc("server_zone_sent_bytes_total", "Bytes sent to clients by a server zone.", zLabels...)
	uLabels     = []string{"protocol", "upstream", "server"}
	dUpReq      = desc("upstream_server_requests_total", "Attempts sent to an upstream server.", uLabels...)
	dUpResp     = desc("upstream_server_responses_total", "Responses of an upstream server by status class.", append(uLabels, "code")...)
	dUpFail     = desc("upstream_server_failures_total", "Failed attempts on an upstream server.", uLabels...)
	dUpUnavail  = desc("upstream_server_unavailable_total", "Times max_fails made an upstream server unavailable.", uLabels...)
	dUpActive   = desc("upstream_server_active", "Attempts in progress on an upstream server.", uLabels...)
	dUpState    = desc("upstream_server_state", "1 for the state an upstream server is in.", append(uLabels, "state")...)
	dUpWeight   = desc("upstream_server_weight", "Configured weight of an upstream server.", uLabels...)
	dUpSent     = desc("upstream_server_sent_bytes_total", "Bytes sent to an upstream server.", uLabels...)
	dUpRecv     = desc("upstream_server_received_bytes_total", "Bytes received from an upstream server.", uLabels...)
	dHCChecks   = desc("upstream_server_health_checks_total", "Active health checks of an upstream server.", uLabels...)
	dHCFails    = desc("upstream_server_health_check_fails_total", "Failed active health checks of an upstream server.", uLabels...)
	dHCUnhealth = desc("upstream_server_unhealthy_total", "Times an upstream server became unhealthy.", uLabels...)
	dHCHealthy  = desc("upstream_server_healthy", "1 if an upstream server passes its active health checks, 0 if not.", uLabels...)
)

// states are every upstream state, so a server's state series are all
// present (0 or 1) and an alert can watch for one.
var states = []upstream.State{upstream.StateUp, upstream.StateDown, upstream.StateUnhealthy,
	upstream.StateUnavailable, upstream.StateDraining, upstream.StateSlowStart}

var classes = [5]string{"1xx", "2xx", "3xx", "4xx", "5xx"}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	m := c.m
	counter := func(d *prometheus.Desc, v float64, l ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, l...)
	}
	gauge := func(d *prometheus.Desc, v float64, l ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, l...)
	}
	f := m.conns.Figures()
	counter(dAccepted, float64(f.Accepted))
	counter(dHandled, float64(f.Handled))
	counter(dRequests, float64(f.Requests))
	gauge(dConns, float64(f.Active), "active")
	gauge(dConns, float64(f.Reading), "reading")
	gauge(dConns, float64(f.Writing), "writing")
	gauge(dConns, float64(f.Waiting), "waiting")

	for _, z := range m.sortedZones() {
		counter(dZoneReq, float64(z.requests.Load()), z.name)
		gauge(dZoneProc, float64(z.processing.Load()), z.name)
		counter(dZoneDisc, float64(z.discarded.Load()), z.name)
		counter(dZoneRecv, float64(z.received.Load()), z.name)
		counter(dZoneSent, float64(z.sent.Load()), z.name)
		for i, cl := range classes {
			counter(dZoneResp, float64(z.classes[i].Load()), z.name, cl)
		}
	}

	live := map[peerID]bool{}
	for _, gr := range m.groups() {
		proto := protocol(gr.stream)
		for _, s := range gr.g.Servers() {
			l := []string{proto, gr.g.Name(), s.Addr}
			counter(dUpReq, float64(s.Requests), l...)
			counter(dUpFail, float64(s.Failures), l...)
			counter(dUpUnavail, float64(s.Unavail), l...)
			gauge(dUpActive, float64(s.Active), l...)
			gauge(dUpWeight, float64(s.Weight), l...)
			for i, cl := range classes {
				counter(dUpResp, float64(s.Responses[i]), append(l, cl)...)
			}
			for _, st := range states {
				v := 0.0
				if s.State == st {
					v = 1
				}
				gauge(dUpState, v, append(l, string(st))...)
			}
			if h := m.opt.Health; h != nil {
				if hs, ok := h(gr.stream, gr.g.Name(), s.Addr); ok {
					counter(dHCChecks, float64(hs.Checks), l...)
					counter(dHCFails, float64(hs.Fails), l...)
					counter(dHCUnhealth, float64(hs.Unhealthy), l...)
					gauge(dHCHealthy, b2f(hs.Healthy), l...)
				}
			}
			id := peerID{gr.stream, gr.g.Name(), s.Addr}
			live[id] = true
			m.mu.RLock()
			p := m.peers[id]
			m.mu.RUnlock()
			if p != nil {
				counter(dUpSent, float64(p.sent.Load()), l...)
				counter(dUpRecv, float64(p.received.Load()), l...)
				p.connect.Collect(ch)
				p.header.Collect(ch)
				p.response.Collect(ch)
			}
		}
	}
	m.prune(live)
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// itoa avoids fmt for status codes.
func itoa(n int) string { return strconv.Itoa(n) }
