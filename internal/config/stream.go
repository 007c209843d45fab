package config

import (
	"net/netip"
	"strings"
	"time"

	"bunsan/internal/upstream"
)

// Stream is the stream block (TCP and UDP load balancing, nginx's
// ngx_stream_* modules).
type Stream struct {
	// Upstreams are the stream upstream groups. They are a namespace of
	// their own: an http upstream of the same name is another group.
	Upstreams []*upstream.Spec
	Servers   []*StreamServer
	Maps      []*StreamMap
	// LogFormats maps a log_format name to its template; "combined" is
	// not predefined in stream (as in nginx), "basic" is added when absent.
	LogFormats map[string]string
	// Zones are the limit_conn_zone declarations, by name.
	Zones map[string]*ConnZone
	// Proxy is the settings written at stream level, inherited by every
	// server that does not write its own.
	Proxy StreamProxy

	// hashPos is where each group's hash directive stands, for messages
	// about its key (the Spec records only the block's line).
	hashPos map[string]Pos
}

// Upstream returns the stream group called name, or nil.
func (s *Stream) Upstream(name string) *upstream.Spec {
	for _, u := range s.Upstreams {
		if u.Name == name {
			return u
		}
	}
	return nil
}

// Map returns the map that defines variable name (without "$"), or nil.
func (s *Stream) Map(name string) *StreamMap {
	for _, m := range s.Maps {
		if m.Var == name {
			return m
		}
	}
	return nil
}

// StreamServer is one server block of stream: where it listens and the
// proxy settings, already merged with the stream level.
type StreamServer struct {
	Pos     Pos
	Listens []StreamListen
	Proxy   StreamProxy

	// broken is set while loading when an error was reported inside the
	// block, so that "no listen" does not follow "invalid listen".
	broken bool
}

// StreamListen is one listen directive of a stream server.
type StreamListen struct {
	Pos Pos
	// Addr is host:port, host possibly empty (all addresses).
	Addr          string
	UDP           bool
	SSL           bool
	ProxyProtocol bool
	Socket
}

// Network is "tcp" or "udp".
func (l StreamListen) Network() string {
	if l.UDP {
		return "udp"
	}
	return "tcp"
}

// StreamPass is a stream proxy_pass target: a group, an address or a
// variable (evaluated per connection, then looked up as a group name or
// an address).
type StreamPass struct {
	Pos   Pos
	Raw   string
	Group string // set when Raw names a stream upstream
	Addr  string // host:port, when Raw is an address
	Var   bool   // Raw holds variables
}

// StreamProxy is the per-server settings of the stream proxy and its
// companion modules (access, limit_conn, log, realip, ssl_preread, ssl).
type StreamProxy struct {
	Pass *StreamPass
	// Sets are the set directives ($name = value with variables), in order.
	Sets []StreamSet
	// Return is the stream return directive's text (with variables): sent
	// to the client, then the connection closes; no backend is involved.
	Return         *string
	ConnectTimeout time.Duration // default 60s
	Timeout        time.Duration // idle timeout, default 10m
	NextUpstream   bool          // default on
	NextTries      int           // 0 = no limit
	NextTimeout    time.Duration // 0 = no limit
	BufferSize     int64         // default 16k
	DownloadRate   int64         // bytes per second; 0 = unlimited
	UploadRate     int64
	// Bind is the local address for connections to backends, "" = any.
	Bind string
	// Responses is proxy_responses (UDP): -1 = unset (unlimited).
	Responses int
	// Requests is proxy_requests (UDP): 0 = unlimited.
	Requests      int
	ProxyProtocol bool // send a PROXY header to the backend
	// ProxyProtocolVersion is 1 (nginx's only one, the default) or 2
	// (proxy_protocol_version 2, a bunsan extension: HAProxy's binary
	// header, as "send-proxy-v2").
	ProxyProtocolVersion int
	HalfClose            bool // proxy_half_close (default off, as in nginx)
	// SocketKeepalive is proxy_socket_keepalive: TCP keepalive on the
	// connections to backends (default off, as in nginx).
	SocketKeepalive bool

	SSLPreread        bool
	PrereadBufferSize int64         // default 16k
	PrereadTimeout    time.Duration // default 30s
	// ProxyProtocolTimeout bounds reading a PROXY header from the client
	// (listen ... proxy_protocol); default 30s, as nginx.
	ProxyProtocolTimeout time.Duration

	// RealIPFrom is set_real_ip_from: trusted senders of PROXY headers
	// whose source address becomes $remote_addr.
	RealIPFrom []netip.Prefix
	Access     []AccessRule
	LimitConn  []LimitConn
	// AccessLogs are the access_log directives; AccessLogOff is "off".
	AccessLogs   []AccessLog
	AccessLogOff bool

	SSL SSL

	// SSLUpstream is proxy_ssl: speak TLS to the backend, with the
	// proxy_ssl_* settings in UpstreamTLS.
	SSLUpstream bool
	UpstreamTLS ProxyTLS
}

// StreamSet is "set $name value;" in a stream server.
type StreamSet struct {
	Var   string // without "$"
	Value string
}

// AccessRule is one allow or deny line; All is "all".
type AccessRule struct {
	Allow  bool
	Prefix netip.Prefix
	All    bool
}

// LimitConn is "limit_conn ZONE NUMBER".
type LimitConn struct {
	Zone string
	Max  int
}

// ConnZone is "limit_conn_zone KEY zone=NAME:SIZE".
type ConnZone struct {
	Pos  Pos
	Name string
	Key  string
	Size int64
}

// AccessLog is one access_log: a file (absolute) or "stderr", and the
// name of its format.
type AccessLog struct {
	Path   string
	Format string
	// If is the if= condition: the line is written unless it evaluates
	// to "" or "0". Empty means always.
	If string
}

// StreamMap is a map block: Var takes the value of the entry matching
// Source (which may hold several variables).
type StreamMap struct {
	Pos       Pos
	Source    string
	Var       string // without "$"
	Default   string
	Hostnames bool
	Entries   []MapEntry
}

// MapEntry is one "KEY VALUE;" line of a map. Regex keys are written
// "~re" (or "~*re" for case-insensitive) and tried in order after the
// exact (and, with hostnames, wildcard) keys.
type MapEntry struct {
	Key   string
	Value string
	Regex bool
	Fold  bool // case-insensitive regex
}

// mapEntry reads one map line's key as nginx does: "~re" and "~*re" are
// regular expressions (the second case-insensitive), "\x" escapes a key
// that would otherwise be special ("\default" is the literal "default").
func mapEntry(key, value string) MapEntry {
	me := MapEntry{Key: key, Value: value}
	switch {
	case strings.HasPrefix(key, "~*"):
		me.Regex, me.Fold, me.Key = true, true, key[2:]
	case strings.HasPrefix(key, "~"):
		me.Regex, me.Key = true, key[1:]
	case strings.HasPrefix(key, `\`):
		me.Key = key[1:]
	}
	return me
}

func defaultStreamProxy() StreamProxy {
	return StreamProxy{
		ConnectTimeout:       60 * time.Second,
		Timeout:              10 * time.Minute,
		NextUpstream:         true,
		BufferSize:           16 << 10,
		Responses:            -1,
		ProxyProtocolVersion: 1,
		PrereadBufferSize:    16 << 10,
		PrereadTimeout:       30 * time.Second,
		ProxyProtocolTimeout: 30 * time.Second,
		UpstreamTLS:          defaultStreamProxyTLS(),
	}
}
