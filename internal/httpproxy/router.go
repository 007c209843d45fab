package httpproxy

import (
	"net/http"
	"sync/atomic"
)

// Router is the http.Handler for one listening address. It reads the
// current snapshot once per request.
type Router struct {
	Addr    string
	Current *atomic.Pointer[Snapshot]
}

func (rt *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rt.Current.Load().serve(rt.Addr, w, r)
}

// Limits returns the connection settings for the router's address in the
// current snapshot.
func (rt *Router) Limits() Limits {
	if s := rt.Current.Load(); s != nil {
		return s.Limits(rt.Addr)
	}
	return DefaultLimits()
}
