package config

import (
	"net/netip"
	"time"
)

// Settings are the http-module settings other than proxy_*: written at
// http, server or location level and merged downwards as nginx merges
// location configuration (a list written at a level replaces the
// inherited one).
type Settings struct {
	AddHeaders []AddHeader
	ErrorPages []ErrorPage
	Access     []AccessRule
	// AccessLogs are the access_log lines in effect; AccessLogOff is
	// "access_log off". With neither, the default (logs/access.log
	// combined) applies.
	AccessLogs   []HTTPAccessLog
	AccessLogOff bool

	RealIPFrom      []netip.Prefix
	RealIPHeader    string
	RealIPRecursive bool

	ClientHeaderTimeout time.Duration
	ClientBodyTimeout   time.Duration
	KeepaliveTimeout    time.Duration
	KeepaliveRequests   int
	LargeHeaderBuffers  Buffers

	set settingsSet
}

// AddHeader is one add_header.
type AddHeader struct {
	Name, Value string
	Always      bool
}

// ErrorPage is one error_page: the codes it covers, the status to answer
// with (0 = the original one; "=" alone means the target's), and the
// target URI or "@name".
type ErrorPage struct {
	Codes    []int
	Response int
	// TargetStatus is "error_page 404 = /x": the status comes from the
	// target.
	TargetStatus bool
	URI          string
}

// HTTPAccessLog is one access_log line in http.
type HTTPAccessLog struct {
	Path   string // absolute, or "stderr"/"syslog:" as written
	Format string
	Buffer int64
	Flush  time.Duration
	// If is the if= condition: the line is written unless it evaluates
	// to "" or "0".
	If string
}

// LogFormat is one log_format.
type LogFormat struct {
	Escape string // "default", "json" or "none"
	Text   string
}

// SetVar is one set $name value.
type SetVar struct {
	Name, Value string
}

type settingsSet uint32

const (
	setAddHeaders settingsSet = 1 << iota
	setErrorPages
	setAccess
	setAccessLogs
	setRealIPFrom
	setRealIPHeader
	setRealIPRecursive
	setClientHeaderTimeout
	setClientBodyTimeout
	setKeepaliveTimeout
	setKeepaliveRequests
	setLargeHeaderBuffers
)

// defaultSettings is nginx's defaults.
func defaultSettings() Settings {
	return Settings{
		RealIPHeader:        "X-Real-IP",
		ClientHeaderTimeout: 60 * time.Second,
		ClientBodyTimeout:   60 * time.Second,
		KeepaliveTimeout:    75 * time.Second,
		KeepaliveRequests:   1000,
		LargeHeaderBuffers:  Buffers{Number: 4, Size: 8 << 10},
	}
}

func mergeSettings(child, parent *Settings) {
	inherit := func(bit settingsSet, copyField func()) {
		if child.set&bit == 0 {
			copyField()
		}
	}
	inherit(setAddHeaders, func() { child.AddHeaders = parent.AddHeaders })
	inherit(setErrorPages, func() { child.ErrorPages = parent.ErrorPages })
	inherit(setAccess, func() { child.Access = parent.Access })
	inherit(setAccessLogs, func() { child.AccessLogs, child.AccessLogOff = parent.AccessLogs, parent.AccessLogOff })
	inherit(setRealIPFrom, func() { child.RealIPFrom = parent.RealIPFrom })
	inherit(setRealIPHeader, func() { child.RealIPHeader = parent.RealIPHeader })
	inherit(setRealIPRecursive, func() { child.RealIPRecursive = parent.RealIPRecursive })
	inherit(setClientHeaderTimeout, func() { child.ClientHeaderTimeout = parent.ClientHeaderTimeout })
	inherit(setClientBodyTimeout, func() { child.ClientBodyTimeout = parent.ClientBodyTimeout })
	inherit(setKeepaliveTimeout, func() { child.KeepaliveTimeout = parent.KeepaliveTimeout })
	inherit(setKeepaliveRequests, func() { child.KeepaliveRequests = parent.KeepaliveRequests })
	inherit(setLargeHeaderBuffers, func() { child.LargeHeaderBuffers = parent.LargeHeaderBuffers })
	child.set |= parent.set
}
