package metrics

import "sync/atomic"

// Zone counts the requests of one server block (its status_zone, or the
// name the caller gives it), as NGINX Plus's server_zones.
type Zone struct {
	name       string
	processing atomic.Int64
	requests   atomic.Uint64
	discarded  atomic.Uint64
	received   atomic.Uint64
	sent       atomic.Uint64
	classes    [5]atomic.Uint64
	// codes counts each status code 100..599, for the Plus API's
	// "codes"; 4 KB a zone buys an allocation-free count.
	codes [500]atomic.Uint64
}

// Begin counts a request of the zone starting.
func (z *Zone) Begin() {
	z.requests.Add(1)
	z.processing.Add(1)
}

// End counts it ending: the status sent (0 or 499 when the client went
// away before a response, which NGINX Plus calls discarded) and the bytes
// received from and sent to the client.
func (z *Zone) End(status int, received, sent int64) {
	z.processing.Add(-1)
	z.received.Add(uint64(max(received, 0)))
	z.sent.Add(uint64(max(sent, 0)))
	if status == 0 || status == 499 || status == 444 {
		z.discarded.Add(1)
		return
	}
	if status >= 100 && status <= 599 {
		z.classes[status/100-1].Add(1)
		z.codes[status-100].Add(1)
	}
}
