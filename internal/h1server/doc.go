// Package h1server owns HTTP/1.x server connections: parsing with the
// guard's strictness, keep-alive, response framing, idle parking. It must
// not know about config, routing or upstreams: those reach it only as an
// http.Handler, a Limits function and a Refuse hook.
//
// It exists because net/http's server, behind the guard, paid twice for
// every head (guard, then net/http's own parse), a background-read
// goroutine and syscall per request, and about 25 KiB per idle keep-alive
// connection. Here a head is validated and parsed once, a response goes
// out in one write when it is small, and an idle connection holds no
// buffer and no goroutine: it is parked in an epoll set (park_linux.go)
// until the client sends again.
//
// A handler must not keep the *http.Request, its URL or its header after
// it returns (nor the response header, as with net/http): a connection
// reuses them for its next request.
//
//	check.go     the head and chunk rules (one source of truth, the guard uses them too)
//	request.go   a validated head becomes an *http.Request
//	body.go      Content-Length and chunked request bodies, 100-continue
//	response.go  the http.ResponseWriter: framing, Flush, Hijack, deadlines
//	conn.go      one connection's request loop
//	read.go      reading heads, lingering before parking
//	close.go     ending connections
//	wire.go      status lines and header fields as net/http writes them
//	watch.go     cancelling the request context when the client leaves
//	connctx.go   the connection's context, with a slot for an upstream round trip's abort
//	server.go    Serve, Shutdown, Close, connection states
//	park*.go     idle connections without goroutines, keepalive_timeout sweep
//	workers.go   goroutines kept for the next connection
package h1server
