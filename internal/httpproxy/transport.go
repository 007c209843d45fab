package httpproxy

import (
	"crypto/tls"

	"bunsan/internal/config"
	"bunsan/internal/h1client"
	"bunsan/internal/upstream"
)

// newPool makes the backend connection pool for one proxy_pass setting.
// Backend connections are kept alive (nginx since 1.29.7 does so by
// default) within the group's keepalive, keepalive_timeout,
// keepalive_requests and keepalive_time; proxy_buffer_size bounds a
// response head, as in nginx ("upstream sent too big header": 502).
func newPool(p *config.Proxy, g *upstream.Group, tc *tls.Config) *h1client.Pool {
	o := h1client.Options{
		ConnectTimeout: p.ConnectTimeout,
		ReadTimeout:    p.ReadTimeout,
		SendTimeout:    p.SendTimeout,
		HTTP10:         p.HTTPVersion == "1.0",
		TLS:            tc,
		MaxHeadBytes:   int(p.BufferSize),
	}
	if g != nil {
		s := g.Spec()
		o.MaxIdlePerHost = s.Keepalive
		o.IdleTimeout = s.KeepaliveTimeout
		o.MaxRequestsPerConn = s.KeepaliveRequests
		o.MaxLifetime = s.KeepaliveTime
	}
	return h1client.New(o)
}
