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
