package process

import (
	"context"
	"net"
)

// listen opens a TCP listener, with SO_REUSEPORT when asked. Go sets the
// backlog from the kernel's somaxconn; listen's backlog= is recorded only.
// Accepted connections get no TCP keep-alive probes, nginx's default
// (so_keepalive off): Go would otherwise make four setsockopt calls per
// accepted connection (measurable when every request is a new
// connection). A listener inherited in a binary upgrade keeps Go's
// default, which the runtime fixes when the socket is adopted.
func listen(addr string, reusePort bool) (net.Listener, error) {
	lc := net.ListenConfig{KeepAlive: -1}
	if reusePort {
		lc.Control = reusePortControl
	}
	return lc.Listen(context.Background(), "tcp", addr)
}
