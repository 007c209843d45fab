// Package metrics counts what the data paths do and shows it three ways:
// Prometheus exposition (client_golang), nginx's stub_status text, and
// the read-only NGINX Plus status JSON (/api/9/nginx, /connections,
// /http/requests, /http/server_zones).
//
// The request path touches only atomics and pre-built prometheus
// histograms: handles (a Zone per server block, a Peer per upstream
// server) are looked up once and reused, and nothing allocates per
// request. Everything else (upstream server states, request counts,
// health-check figures) is read from the upstream groups and the health
// checker when a scrape asks, so nothing is counted twice and servers
// that leave a group leave the output.
//
// Connection figures follow nginx's stub_status: accepted and handled
// connections (equal: bunsan drops none), active connections, and of
// those the ones reading a request, writing a response (a request in a
// handler) and waiting (idle keep-alive). They come from http.Server's
// ConnContext and ConnState hooks plus Begin/End around each request.
package metrics
