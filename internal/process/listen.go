package process

import (
	"context"
	"net"
)

// listen opens a TCP listener, with SO_REUSEPORT when asked. Go sets the
// backlog from the kernel's somaxconn; listen's backlog= is recorded only.
func listen(addr string, reusePort bool) (net.Listener, error) {
	lc := net.ListenConfig{}
	if reusePort {
		lc.Control = reusePortControl
	}
	return lc.Listen(context.Background(), "tcp", addr)
}
