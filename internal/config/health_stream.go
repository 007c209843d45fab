package config

import "bunsan/internal/conf"

// The stream server's health_check rows read the stream model, so they
// join the table from here.
var _ = func() bool {
	streamHealthRows = func() []*directive {
		return []*directive{
			{name: "health_check", ctx: CtxStreamServer, maxArgs: many, repeat: true, handle: handleStreamHealthCheck},
			{name: "health_check_timeout", ctx: CtxStream | CtxStreamServer, minArgs: 1, maxArgs: 1, handle: handleHealthCheckTimeout},
		}
	}
	return true
}()

// handleStreamHealthCheck reads health_check in a stream server: TCP
// connect checks, send/expect with match=, or udp.
func handleStreamHealthCheck(l *loader, s *scope, d *conf.Directive) error {
	c, err := parseHealthCheck(d, true)
	if err != nil {
		return err
	}
	srv := s.ups.stream.srv
	c.resolve = func(h *Health) string {
		pp := srv.Proxy.Pass
		if pp == nil || pp.Group == "" {
			return "\"health_check\" needs a stream server that proxies to an upstream group: add \"proxy_pass GROUP;\" naming an upstream block"
		}
		c.Group = pp.Group
		t := h.srvTimeout[srv]
		if t == 0 {
			t = orDuration(h.streamTimeout, DefaultCheckTimeout)
		}
		c.ConnectTimeout, c.ReadTimeout = t, t
		return ""
	}
	h := healthTable(l.m)
	h.Checks = append(h.Checks, c)
	return nil
}

// handleHealthCheckTimeout reads health_check_timeout (stream): how long
// a check may take to connect and to answer.
func handleHealthCheckTimeout(l *loader, s *scope, d *conf.Directive) error {
	t, err := parseDuration(d.Args[0])
	if err != nil {
		return argError(d, 0, "%v", err)
	}
	h := healthTable(l.m)
	if s.ctx == CtxStream {
		h.streamTimeout = t
		return nil
	}
	h.srvTimeout[s.ups.stream.srv] = t
	return nil
}
