package h1server

import "time"

// Limits are the per-connection settings nginx takes from the default
// server of an address. Server.Limits is evaluated at accept, so a reload
// applies to connections accepted afterwards.
type Limits struct {
	// HeaderBufSize and HeaderBufNum are large_client_header_buffers: the
	// request line and each header line must fit one buffer (414 / 431),
	// the whole head all of them (431).
	HeaderBufSize int
	HeaderBufNum  int
	// HeaderTimeout is client_header_timeout; IdleTimeout is
	// keepalive_timeout (0 turns keep-alive off); BodyTimeout is
	// client_body_timeout (applied by the handler through
	// http.ResponseController.SetReadDeadline).
	HeaderTimeout time.Duration
	IdleTimeout   time.Duration
	BodyTimeout   time.Duration
	// MaxRequests is keepalive_requests (0 = no limit). The handler
	// enforces it (it is per location in nginx) by answering with
	// "Connection: close"; the server honours that.
	MaxRequests int
}

// DefaultLimits are nginx's defaults.
func DefaultLimits() Limits {
	return Limits{HeaderBufSize: 8 << 10, HeaderBufNum: 4, HeaderTimeout: 60 * time.Second,
		IdleTimeout: 75 * time.Second, BodyTimeout: 60 * time.Second, MaxRequests: 1000}
}

func (l Limits) maxHead() int { return l.HeaderBufSize * l.HeaderBufNum }
