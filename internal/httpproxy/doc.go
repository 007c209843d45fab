// Package httpproxy is the HTTP data path (L7): it chooses the virtual
// server by address and Host, the location by nginx's precedence on the
// normalised path, runs the rewrite phase (set, if, return), the access
// phase (real_ip, allow/deny) and the handler (return, or proxy_pass to
// an upstream group or a fixed backend, retrying the next server as
// proxy_next_upstream allows), then writes the access log.
//
// One request, one straight path, each stage in its own file:
//
//	guard.go        request framing checked before net/http reads it (TLS, h2c);
//	                plain HTTP/1 is served by internal/h1server (h1glue.go)
//	snapshot.go     vhost → location → phases → handler → log
//	reqctx.go       the pooled per-request context variables read
//	vars*.go        variables compiled once at load
//	proxy.go        pick → round trip → classify → retry or respond
//	proxy_request.go, body.go, proxy_response.go, transport.go, scratch.go
//	phases.go, rewrite.go, map.go, redirect.go, sticky.go, accesslog.go
//
// It is built from a config.Model once per load (a Snapshot) and reads
// nothing but that snapshot and the upstream groups' live state on the
// request path. It does not parse configuration, open listeners or handle
// signals (package process does).
package httpproxy
