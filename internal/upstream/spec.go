package upstream

import "time"

// Method names a balancing method as written in configuration.
type Method string

// The balancing methods. An empty Method means round-robin.
const (
	RoundRobin Method = "round_robin"
	LeastConn  Method = "least_conn"
	IPHash     Method = "ip_hash"
	Hash       Method = "hash"
	Random     Method = "random"
	LeastTime  Method = "least_time"
)

// Spec is one upstream group as configuration declares it: plain data,
// validated by the config package, turned into a live Group by a Store.
// It carries no state; two loads of the same text give equal Specs.
type Spec struct {
	Name string
	// File and Line locate the "upstream" block, for messages.
	File string
	Line int

	Method Method
	// HashKey is the raw key expression of "hash KEY" (e.g. "$request_uri");
	// the data path compiles and evaluates it and passes the bytes in Pick.
	HashKey string
	// Consistent selects nginx's ketama ring for "hash KEY consistent".
	Consistent bool
	// BalanceFactor > 0 bounds any server's load to BalanceFactor times the
	// average ("hash KEY consistent balance_factor=1.25"); 0 means unbounded.
	BalanceFactor float64
	// Two selects power-of-two-choices for "random two"; TwoMethod is the
	// score used between the two (LeastConn or LeastTime; empty = LeastConn).
	Two       bool
	TwoMethod Method
	// LeastTimeMode is "header" or "last_byte" for least_time (also for
	// "random two least_time=..."); Inflight adds incomplete requests.
	LeastTimeMode string
	Inflight      bool

	// Sticky is nil unless a "sticky" directive is present.
	Sticky *StickySpec

	Keepalive         int           // idle connections kept per worker; 0 = default
	KeepaliveRequests int           // 0 = default (1000)
	KeepaliveTime     time.Duration // 0 = default (1h)
	KeepaliveTimeout  time.Duration // 0 = default (60s)
	Zone              string
	ZoneSize          int64

	Servers []ServerSpec

	// StateFile is "state FILE": where the server list is kept across
	// restarts, rewritten on every change made through the API. The
	// config package reads it into Servers at load. "" means none.
	StateFile string
}

// StickySpec is the "sticky" directive: cookie, route or learn.
type StickySpec struct {
	Mode string // "cookie", "route" or "learn"
	// cookie mode
	CookieName string
	Expires    time.Duration // 0 = session cookie; <0 = "max"
	Domain     string
	Path       string
	HTTPOnly   bool
	Secure     bool
	SameSite   string
	// route mode: variables to look for a route in, in order
	RouteVars []string
	// learn mode
	Create  []string
	Lookup  []string
	Timeout time.Duration // 0 = 10m, as nginx
	// Zone and ZoneSize are learn's zone=NAME:SIZE; the size bounds the
	// session table (128 bytes a session); 0 = DefaultLearnSessions.
	Zone     string
	ZoneSize int64
}

// ServerSpec is one "server" line inside an upstream block.
type ServerSpec struct {
	// Addr is the address as written: "host:port", "unix:/path", or a name
	// with "resolve". The key for state carried across reloads is
	// (group name, Addr).
	Addr string
	// Written is the address exactly as written in the configuration when
	// it differs from Addr (e.g. "backend" where Addr is "backend:80").
	// Consistent hashing hashes this text, as nginx hashes the server
	// directive's argument; "" means Addr.
	Written     string
	Weight      int // default 1
	MaxConns    int // 0 = unlimited
	MaxFails    int // default 1; 0 disables failure accounting
	FailTimeout time.Duration
	Backup      bool
	Down        bool
	Drain       bool
	SlowStart   time.Duration
	Route       string
	// Resolve and Service are recorded only: names are resolved once, by
	// the dialer; periodic re-resolution is not done yet.
	Resolve bool
	Service string
	// Line in the configuration, for messages.
	Line int
}

// Defaults applied by the config package when a parameter is absent.
const (
	DefaultWeight      = 1
	DefaultMaxFails    = 1
	DefaultFailTimeout = 10 * time.Second
)
