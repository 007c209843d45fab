package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"bunsan/internal/conf"
)

// handleHealthCheck reads health_check in an http location.
func handleHealthCheck(l *loader, s *scope, d *conf.Directive) error {
	c, err := parseHealthCheck(d, false)
	if err != nil {
		return err
	}
	loc := s.loc
	c.resolve = func(*Health) string {
		pp := loc.Proxy.Pass
		if pp == nil || pp.Group == "" {
			return "\"health_check\" needs a location that proxies to an upstream group: add \"proxy_pass http://GROUP;\" naming an upstream block"
		}
		c.Group, c.Host = pp.Group, pp.Host
		c.ConnectTimeout = orDuration(loc.Proxy.ConnectTimeout, 60*time.Second)
		c.ReadTimeout = orDuration(loc.Proxy.ReadTimeout, 60*time.Second)
		return ""
	}
	h := healthTable(l.m)
	h.Checks = append(h.Checks, c)
	return nil
}

// parseHealthCheck reads the parameters of a health_check, NGINX Plus's
// for http (type=grpc and its grpc_ options) or stream (udp).
func parseHealthCheck(d *conf.Directive, stream bool) (*HealthCheck, error) {
	c := &HealthCheck{
		Pos: toPos(d.Pos), Stream: stream, Type: CheckHTTP,
		Interval: DefaultCheckInterval, Fails: 1, Passes: 1, URI: DefaultCheckURI, GRPCStatus: -1,
	}
	if stream {
		c.Type, c.URI = CheckTCP, ""
	}
	for i, a := range d.Args {
		if err := healthParam(c, a, stream); err != nil {
			return nil, argError(d, i, "%v", err)
		}
	}
	if c.Persistent && !c.Mandatory {
		return nil, fmt.Errorf("\"persistent\" needs \"mandatory\": write health_check mandatory persistent")
	}
	if c.Type != CheckGRPC && (c.GRPCService != "" || c.GRPCStatus >= 0) {
		return nil, fmt.Errorf("grpc_service= and grpc_status= need type=grpc")
	}
	if c.Type == CheckGRPC && c.Match != "" {
		return nil, fmt.Errorf("match= cannot be used with type=grpc: a gRPC check reads the health service's answer")
	}
	return c, nil
}

// healthParam applies one health_check parameter.
func healthParam(c *HealthCheck, a string, stream bool) error {
	key, val, hasVal := strings.Cut(a, "=")
	var err error
	count := func() (int, error) {
		n, err := strconv.Atoi(val)
		if err != nil || n < 1 || n > 1000 {
			return 0, fmt.Errorf("invalid %s %q: it must be a whole number from 1 to 1000", key, val)
		}
		return n, nil
	}
	switch {
	case key == "interval" && hasVal:
		c.Interval, err = parseDuration(val)
		if err == nil && c.Interval <= 0 {
			err = fmt.Errorf("invalid interval %q: it must be more than 0", val)
		}
	case key == "jitter" && hasVal:
		c.Jitter, err = parseDuration(val)
	case key == "fails" && hasVal:
		c.Fails, err = count()
	case key == "passes" && hasVal:
		c.Passes, err = count()
	case key == "port" && hasVal:
		c.Port, err = strconv.Atoi(val)
		if err != nil || c.Port < 1 || c.Port > 65535 {
			err = fmt.Errorf("invalid port %q: it must be from 1 to 65535", val)
		}
	case key == "match" && hasVal:
		if val == "" {
			return fmt.Errorf("match= needs the name of a match block")
		}
		c.Match = val
	case key == "uri" && hasVal && !stream:
		if !strings.HasPrefix(val, "/") {
			return fmt.Errorf("invalid uri %q: it must start with \"/\"", val)
		}
		c.URI = val
	case key == "type" && hasVal && !stream:
		if val != CheckGRPC {
			return fmt.Errorf("invalid type %q: the only type is \"grpc\" (HTTP is the default)", val)
		}
		c.Type = CheckGRPC
	case key == "grpc_service" && hasVal && !stream:
		c.GRPCService = val
	case key == "grpc_status" && hasVal && !stream:
		c.GRPCStatus, err = strconv.Atoi(val)
		if err != nil || c.GRPCStatus < 0 || c.GRPCStatus > 16 {
			err = fmt.Errorf("invalid grpc_status %q: a gRPC status code is 0 to 16", val)
		}
	case a == "udp" && stream:
		c.Type = CheckUDP
	case a == "mandatory":
		c.Mandatory = true
	case a == "persistent":
		c.Persistent = true
	case key == "keepalive_time" && hasVal:
		// NGINX Plus reuses the check's connection for this long; each
		// check here opens its own, which only costs a handshake.
		_, err = parseDuration(val)
	default:
		if stream {
			return fmt.Errorf("invalid parameter %q: a stream health_check takes interval=, jitter=, fails=, passes=, port=, match=, mandatory, persistent and udp", a)
		}
		return fmt.Errorf("invalid parameter %q: health_check takes interval=, jitter=, fails=, passes=, uri=, port=, match=, mandatory, persistent, type=grpc, grpc_service= and grpc_status=", a)
	}
	return err
}

// endpointSetter makes a location (or, for stub_status, a server) serve a
// status endpoint.
func endpointSetter(kind string) func(*loader, *scope, *conf.Directive) error {
	return func(l *loader, s *scope, d *conf.Directive) error {
		if len(d.Args) == 1 && d.Args[0] != "on" {
			// nginx before 1.7.5 wrote "stub_status on;"; "on" is all
			// it ever took.
			return argError(d, 0, "invalid value %q: write \"%s;\"", d.Args[0], d.Name)
		}
		h := healthTable(l.m)
		if s.ctx == CtxServer {
			h.srvEnd[s.srv] = kind
			return nil
		}
		h.endpoints[s.loc] = kind
		return nil
	}
}

func handleStatusZone(l *loader, s *scope, d *conf.Directive) error {
	name := d.Args[0]
	if name == "" || strings.ContainsAny(name, "$/") {
		return argError(d, 0, "invalid zone name %q: use a plain word", name)
	}
	healthTable(l.m).zones[s.srv] = name
	return nil
}
