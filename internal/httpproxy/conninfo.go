package httpproxy

import (
	"context"
	"net"
	"net/http"
	"sync/atomic"
)

// connInfo is what the variables need to know about the client
// connection: $connection (a serial number) and $connection_requests.
type connInfo struct {
	id       uint64
	requests atomic.Int64
	// guard is the connection's request guard, nil on TLS listeners; an
	// upgrade (WebSocket) turns it into a plain pass-through.
	guard *guardConn
}

var connSeq atomic.Uint64

type connKey struct{}

// ConnContext is the http.Server's ConnContext hook: it gives each client
// connection its serial number and request counter.
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	ci := &connInfo{id: connSeq.Add(1)}
	ci.guard, _ = c.(*guardConn)
	return context.WithValue(ctx, connKey{}, ci)
}

// connFrom returns the request's connection, or a fresh one when the
// server was not set up with ConnContext (tests calling ServeHTTP).
func connFrom(r *http.Request) *connInfo {
	if ci, ok := r.Context().Value(connKey{}).(*connInfo); ok {
		return ci
	}
	return &connInfo{id: connSeq.Add(1)}
}
