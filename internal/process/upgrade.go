package process

import (
	"fmt"
	"net"

	"github.com/cloudflare/tableflip"
)

// upgrader hands the listening sockets to a new binary on SIGUSR2 without
// closing them (cloudflare/tableflip): the new process starts with the same
// arguments, inherits every listener, loads the configuration and says it
// is ready; only then does the old one stop accepting, finish its requests
// and exit. A new binary that fails to start leaves the old one serving.
//
// Unlike nginx, which keeps both masters until the old one is sent QUIT,
// the old process drains and exits by itself once the new one is ready.
type upgrader struct {
	upg *tableflip.Upgrader
}

func newUpgrader() (*upgrader, error) {
	upg, err := tableflip.New(tableflip.Options{})
	if err != nil {
		return nil, fmt.Errorf("binary upgrade: %w", err)
	}
	return &upgrader{upg: upg}, nil
}

// inherited returns the listener for addr that the previous binary passed
// on, or nil when there is none.
func (u *upgrader) inherited(addr string) (net.Listener, error) {
	if u == nil {
		return nil, nil
	}
	return u.upg.Fds.Listener("tcp", addr)
}

// inheritedStream returns the stream socket (TCP listener or UDP socket)
// for network and addr that the previous binary passed on, if any.
func (u *upgrader) inheritedStream(network, addr string) (net.Listener, *net.UDPConn, error) {
	if u == nil {
		return nil, nil, nil
	}
	if network == "tcp" {
		ln, err := u.upg.Fds.Listener("tcp", addr)
		return ln, nil, err
	}
	pc, err := u.upg.Fds.PacketConn("udp", addr)
	if pc == nil || err != nil {
		return nil, nil, err
	}
	udp, ok := pc.(*net.UDPConn)
	if !ok {
		pc.Close()
		return nil, nil, fmt.Errorf("binary upgrade: inherited %s socket %s is a %T", network, addr, pc)
	}
	return nil, udp, nil
}

// upgrade passes the current sockets to a new process and waits until it
// is ready (or failed). The sockets are registered only now, not when they
// open, because tableflip keeps a duplicate of each registered socket and
// a listener a reload removed must really close.
func (u *upgrader) upgrade(listeners map[string]net.Listener, packets map[string]*net.UDPConn) error {
	for addr, pc := range packets {
		if err := u.upg.Fds.AddPacketConn("udp", addr, pc); err != nil {
			return fmt.Errorf("binary upgrade: %w", err)
		}
	}
	for addr, ln := range listeners {
		tl, ok := ln.(tableflip.Listener)
		if !ok {
			return fmt.Errorf("binary upgrade: listener %s cannot be passed on (%T)", addr, ln)
		}
		if err := u.upg.Fds.AddListener("tcp", addr, tl); err != nil {
			return fmt.Errorf("binary upgrade: %w", err)
		}
	}
	return u.upg.Upgrade()
}

// ready tells the previous binary, if any, that this one serves now.
func (u *upgrader) ready() error {
	if u == nil {
		return nil
	}
	return u.upg.Ready()
}

// exit is closed when a new binary has taken over.
func (u *upgrader) exit() <-chan struct{} {
	if u == nil {
		return nil
	}
	return u.upg.Exit()
}

func (u *upgrader) stop() {
	if u != nil {
		u.upg.Stop()
	}
}
