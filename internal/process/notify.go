package process

import (
	"net"
	"os"
	"strconv"
)

// notify sends a state change to systemd (sd_notify) when bunsan runs as a
// Type=notify service: READY=1 once listeners are bound, RELOADING=1 and
// READY=1 around a reload, STOPPING=1 on the way out, and MAINPID= from a
// new binary after an upgrade (the unit needs NotifyAccess=all for that).
// Without NOTIFY_SOCKET it does nothing.
func notify(state string) {
	path := os.Getenv("NOTIFY_SOCKET")
	if path == "" {
		return
	}
	if path[0] == '@' {
		path = "\x00" + path[1:] // abstract socket
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return
	}
	defer conn.Close()
	_, _ = conn.Write([]byte(state))
}

func notifyReady(upgraded bool) {
	if upgraded {
		notify("MAINPID=" + strconv.Itoa(os.Getpid()) + "\nREADY=1")
		return
	}
	notify("READY=1")
}
