package config

import (
	"time"

	"bunsan/internal/upstream"
)

// Model is one validated configuration: built once per load, never
// modified afterwards, and handed to the data paths. A reload builds a new
// Model beside the old one.
type Model struct {
	// File is the main configuration file; Prefix and ConfDir are where
	// relative paths resolved from (nginx's -p prefix and the directory of
	// the main file).
	File    string
	Prefix  string
	ConfDir string

	// PID is the absolute path of the pid file ("" = none).
	PID string
	// ErrorLog is where the error log goes: an absolute path or "stderr".
	ErrorLog      string
	ErrorLogLevel string
	// ShutdownTimeout bounds a graceful stop (worker_shutdown_timeout);
	// 0 means wait for in-flight work without limit, as nginx does.
	ShutdownTimeout time.Duration
	// Workers is worker_processes: how many cores serve (GOMAXPROCS);
	// 0 means auto, Go's default (the CPUs the process may use).
	Workers int
	// RlimitNofile is worker_rlimit_nofile (0 = keep Go's default, the
	// hard limit).
	RlimitNofile uint64

	HTTP   *HTTP   // nil when there is no http block
	Stream *Stream // nil when there is no stream block

	// Warnings are things that load but deserve the user's attention
	// (accepted-and-ignored directives with an effect in nginx).
	Warnings []Diag
}

// Diag is a message tied to a place in the configuration.
type Diag struct {
	Pos Pos
	Msg string
}

// Pos is a place in a configuration file.
type Pos struct {
	File string
	Line int
	Col  int
}

// HTTP is the http block.
type HTTP struct {
	Upstreams  []*upstream.Spec
	Servers    []*Server
	LogFormats map[string]LogFormat
	Maps       []*HTTPMap
}

// Upstream returns the group called name, or nil.
func (h *HTTP) Upstream(name string) *upstream.Spec {
	for _, u := range h.Upstreams {
		if u.Name == name {
			return u
		}
	}
	return nil
}

// Server is one virtual server (an http server block).
type Server struct {
	Pos     Pos
	Listens []Listen
	// Names are the server_name values as written: exact names,
	// "*.example.com", "example.*", "~regex" or "" / "_".
	Names     []string
	Locations []*Location
	SSL       SSL
	// Proxy holds the proxy settings written at server level, merged with
	// the http level; locations inherit from it.
	Proxy    Proxy
	Settings Settings
	// Rewrite is the server-level set and if directives, run in order
	// before the location's (nginx's server rewrite phase).
	Rewrite []RewriteOp
}

// Listen is one listen directive.
type Listen struct {
	Pos Pos
	// Addr is host:port with the host possibly empty (all addresses) or a
	// bracketed IPv6 literal.
	Addr          string
	DefaultServer bool
	SSL           bool
	HTTP2         bool
	Socket
}

// Location modifiers.
const (
	LocPrefix  = ""
	LocExact   = "="
	LocNoRegex = "^~"
	LocRegex   = "~"
	LocRegexCI = "~*"
	LocNamed   = "@"
)

// Location is one location block.
type Location struct {
	Pos      Pos
	Modifier string
	// Path is the prefix, exact path, regular expression or name.
	Path      string
	Locations []*Location // nested
	Proxy     Proxy
	Settings  Settings
	Rewrite   []RewriteOp
	Return    *Return
	// API is set when the location serves the upstream API ("api").
	API *API
}

// Return is the return directive.
type Return struct {
	Code int
	// Text is the body, or the URL for redirects; may hold variables.
	Text string
}

// ProxyPass is a parsed proxy_pass target.
type ProxyPass struct {
	Pos Pos
	Raw string
	// Scheme is "http" or "https".
	Scheme string
	// Host is the host[:port] or the upstream group's name.
	Host string
	// URI is the URI part after the host, with HasURI set when one was
	// written (even "/"), which switches on nginx's prefix replacement.
	URI    string
	HasURI bool
	// Group is set when Host names an upstream block.
	Group string
}
