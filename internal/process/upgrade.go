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

// upgrade passes the current listeners to a new process and waits until it
// is ready (or failed). The sockets are registered only now, not when they
// open, because tableflip keeps a duplicate of each registered socket and
// a listener a reload removed must really close.
func (u *upgrader) upgrade(listeners map[string]net.Listener) error {
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
