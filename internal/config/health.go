package config

import (
	"regexp"
	"time"
)

// healthDirectives are the rows for active health checks (health_check,
// match) and status and metrics endpoints.
//
// What they read is kept in a side table of the Model (see HealthOf),
// not in Model's own types: the model types belong to the data paths,
// and these directives only add to them.
func healthDirectives() []*directive {
	rows := []*directive{
		{name: "health_check", ctx: CtxLocation, maxArgs: many, repeat: true, handle: handleHealthCheck},
		{name: "match", ctx: CtxHTTP, minArgs: 1, maxArgs: 1, block: true, repeat: true, handle: handleMatch},
		{name: "match", ctx: CtxStream, minArgs: 1, maxArgs: 1, block: true, repeat: true, handle: handleMatch},
		{name: "stub_status", ctx: CtxServer | CtxLocation, maxArgs: 1, handle: endpointSetter(EndpointStubStatus)},
		{name: "prometheus", ctx: CtxLocation, handle: endpointSetter(EndpointPrometheus)},
		{name: "dashboard", ctx: CtxLocation, handle: endpointSetter(EndpointDashboard)},
		{name: "status_zone", ctx: CtxServer, minArgs: 1, maxArgs: 1, handle: handleStatusZone},
	}
	if streamHealthRows != nil {
		rows = append(rows, streamHealthRows()...)
	}
	return rows
}

// streamHealthRows, when set, adds the stream server's health_check rows
// (health_stream.go sets it while package variables initialise, before
// the table is built). It is apart because it reads the stream model.
var streamHealthRows func() []*directive

// Endpoints a location may serve instead of proxying.
const (
	EndpointStubStatus = "stub_status"
	EndpointPrometheus = "prometheus"
	EndpointDashboard  = "dashboard"
)

// Check types.
const (
	CheckHTTP = "http"
	CheckGRPC = "grpc"
	CheckTCP  = "tcp"
	CheckUDP  = "udp"
)

// Health-check defaults, as NGINX Plus's.
const (
	DefaultCheckInterval = 5 * time.Second
	DefaultCheckTimeout  = 5 * time.Second // stream health_check_timeout
	DefaultCheckURI      = "/"
)

// HealthCheck is one health_check directive: in an http location (HTTP or
// gRPC checks of the location's proxy_pass group) or in a stream server
// (TCP or UDP checks of its group).
type HealthCheck struct {
	Pos Pos
	// Stream is set for a stream server's check; Group then names a
	// stream upstream (a namespace of its own).
	Stream bool
	// Group is the upstream group checked: the proxy_pass group of the
	// location or stream server, resolved once the whole file is read.
	Group string
	Type  string // CheckHTTP, CheckGRPC, CheckTCP or CheckUDP

	Interval time.Duration
	Jitter   time.Duration
	Fails    int
	Passes   int
	// Port, when not 0, is checked instead of each server's own port.
	Port int
	// URI is the HTTP request target (HTTP checks).
	URI string
	// Host is the Host header of HTTP checks: the proxy_pass host, as
	// nginx sends $proxy_host.
	Host string
	// Match names a match block; MatchBlock is it, resolved.
	Match      string
	MatchBlock *Match
	Mandatory  bool
	Persistent bool
	// GRPCService and GRPCStatus are type=grpc's grpc_service= and
	// grpc_status= (-1 = unset: the response must say SERVING).
	GRPCService string
	GRPCStatus  int

	// ConnectTimeout and ReadTimeout bound one check: the location's
	// proxy_connect_timeout and proxy_read_timeout for HTTP, as NGINX
	// Plus; health_check_timeout for both in stream.
	ConnectTimeout time.Duration
	ReadTimeout    time.Duration

	// resolve fills Group and what the check inherits from the block it
	// is written in, once the whole file is read; it returns why it
	// cannot ("" = done).
	resolve func(h *Health) string
}

// Match is a match block: the tests a check's response must pass.
type Match struct {
	Pos    Pos
	Name   string
	Stream bool

	// Status: the status must fall in one of the ranges, or in none of
	// them when StatusNot is set. No ranges: any status.
	Status    []StatusRange
	StatusNot bool
	Headers   []HeaderTest
	// Body, when set, must match the start of the body (or must not,
	// with BodyNot).
	Body    *regexp.Regexp
	BodyNot bool

	// Send is written after connecting (stream); Expect or ExpectRe must
	// then match what the server answers.
	Send     []byte
	Expect   []byte
	ExpectRe *regexp.Regexp
}

// StatusRange is an inclusive range of status codes.
type StatusRange struct{ Lo, Hi int }

// HeaderTest is one header line of a match block.
type HeaderTest struct {
	Name string
	// Op is "" (present), "!" (absent), "=", "!=", "~" or "!~".
	Op    string
	Value string
	Re    *regexp.Regexp
}
