package process

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"bunsan/internal/config"
)

// listen opens a TCP listener for addr with the listen directive's socket
// parameters. Go sets the backlog from the kernel's somaxconn unless
// backlog= asks for another.
//
// Accepted connections get no TCP keep-alive probes from Go, nginx's
// default (so_keepalive off): Go would otherwise make four setsockopt
// calls per accepted connection (measurable when every request is a new
// connection). so_keepalive= is set on the listening socket instead,
// which accepted connections inherit at no cost per connection. A
// listener inherited in a binary upgrade (net.FileListener, which takes
// no ListenConfig) still gets Go's per-connection keep-alive default.
func listen(addr string, so config.Socket) (net.Listener, error) {
	lc := net.ListenConfig{KeepAlive: -1, Control: bindControl(so)}
	ln, err := lc.Listen(context.Background(), sockNetwork("tcp", addr, so.DualStack), addr)
	if err != nil {
		return nil, err
	}
	if err := tune(ln.(*net.TCPListener), so); err != nil {
		ln.Close()
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	return ln, nil
}

// listenPacket opens a UDP socket for a stream listen.
func listenPacket(addr string, so config.Socket) (*net.UDPConn, error) {
	lc := net.ListenConfig{Control: bindControl(so)}
	pc, err := lc.ListenPacket(context.Background(), sockNetwork("udp", addr, so.DualStack), addr)
	if err != nil {
		return nil, err
	}
	return pc.(*net.UDPConn), nil
}

// sockNetwork is Go's network for a listen address, with nginx's address
// families: "*:80" and "80" are IPv4 only (0.0.0.0), an IPv6 address is
// IPv6 only unless ipv6only=off, so that "listen 80; listen [::]:80;"
// binds two sockets as in nginx rather than failing on Go's dual-stack
// default. A host name is left to Go.
func sockNetwork(proto, addr string, dual bool) string {
	host, _, _ := net.SplitHostPort(addr)
	if host == "" {
		return proto + "4"
	}
	ip, err := netip.ParseAddr(host)
	switch {
	case err != nil:
		return proto
	case ip.Is4():
		return proto + "4"
	case dual:
		return proto
	}
	return proto + "6"
}

// bindControl sets what must be on the socket before bind: SO_REUSEPORT,
// and the buffer sizes, so that the window scale offered to clients
// follows rcvbuf=.
func bindControl(so config.Socket) func(string, string, syscall.RawConn) error {
	return func(_, _ string, c syscall.RawConn) error {
		return control(c, func(fd int) error {
			if so.ReusePort {
				if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1); err != nil {
					return fmt.Errorf("reuseport: %w", err)
				}
			}
			return setBuffers(fd, so)
		})
	}
}

func setBuffers(fd int, so config.Socket) error {
	if so.RcvBuf > 0 {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, so.RcvBuf); err != nil {
			return fmt.Errorf("rcvbuf=%d: %w", so.RcvBuf, err)
		}
	}
	if so.SndBuf > 0 {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, so.SndBuf); err != nil {
			return fmt.Errorf("sndbuf=%d: %w", so.SndBuf, err)
		}
	}
	return nil
}

// tune sets a listening TCP socket's parameters: when it opens, when it
// is inherited from the previous binary and when a reload changes them.
// Every parameter that is off is set off, so a reload that removes
// deferred or so_keepalive takes effect; buffer sizes and backlog= are
// only set when given (a removed one stays until the socket is opened
// anew, as the kernel has no "default" value to go back to).
func tune(ln *net.TCPListener, so config.Socket) error {
	rc, err := ln.SyscallConn()
	if err != nil {
		return err
	}
	return control(rc, func(fd int) error {
		if err := setBuffers(fd, so); err != nil {
			return err
		}
		wait := 0
		if so.Deferred {
			// nginx's value: seconds to wait for data (the kernel turns it
			// into SYN-ACK retransmissions).
			wait = 1
		}
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_DEFER_ACCEPT, wait); err != nil {
			return fmt.Errorf("deferred: %w", err)
		}
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_FASTOPEN, so.FastOpen); err != nil && so.FastOpen > 0 {
			return fmt.Errorf("fastopen=%d: %w", so.FastOpen, err)
		}
		if err := setKeepAlive(fd, so.KeepAlive); err != nil {
			return fmt.Errorf("so_keepalive: %w", err)
		}
		if so.Backlog > 0 {
			// listen() again on a listening socket only sets its queue length.
			if err := unix.Listen(fd, so.Backlog); err != nil {
				return fmt.Errorf("backlog=%d: %w", so.Backlog, err)
			}
		}
		return nil
	})
}

func setKeepAlive(fd int, ka *config.KeepAlive) error {
	if ka == nil {
		return unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_KEEPALIVE, 0)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_KEEPALIVE, 1); err != nil {
		return err
	}
	for _, o := range []struct {
		opt int
		v   int
	}{{unix.TCP_KEEPIDLE, int(ka.Idle / time.Second)}, {unix.TCP_KEEPINTVL, int(ka.Interval / time.Second)}, {unix.TCP_KEEPCNT, ka.Count}} {
		if o.v > 0 {
			if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, o.opt, o.v); err != nil {
				return err
			}
		}
	}
	return nil
}

// control runs f on the socket's descriptor.
func control(c syscall.RawConn, f func(fd int) error) error {
	var ferr error
	if err := c.Control(func(fd uintptr) { ferr = f(int(fd)) }); err != nil {
		return err
	}
	return ferr
}

// sameSocket says whether two socket setups are the same.
func sameSocket(a, b config.Socket) bool {
	ka, kb := a.KeepAlive, b.KeepAlive
	a.KeepAlive, b.KeepAlive = nil, nil
	if a != b || (ka == nil) != (kb == nil) {
		return false
	}
	return ka == nil || *ka == *kb
}

// retune sets a kept listener's socket parameters when a reload changed
// them from cur, the ones last set on it, and records them there.
// ipv6only and reuseport are fixed when the socket is bound; a change to
// them takes effect when the address is opened anew.
func retune(ln net.Listener, cur *config.Socket, so config.Socket) error {
	if sameSocket(*cur, so) {
		return nil
	}
	if err := tuneListener(ln, so); err != nil {
		return err
	}
	*cur = so
	return nil
}

// tuneListener tunes ln when it is a TCP listener (a UDP socket keeps the
// buffers it was opened with).
func tuneListener(ln net.Listener, so config.Socket) error {
	if tl, ok := ln.(*net.TCPListener); ok {
		return tune(tl, so)
	}
	return nil
}
