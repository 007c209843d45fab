package h1server

import (
	"context"
	"net"
	"net/http"
	"sync"
)

// connCtx is the connection's context with room for one function to run
// when it ends. An upstream connection of h1client registers its abort
// here (NotifyAbort) instead of with context.AfterFunc, which costs two
// allocations and an entry in the parent's set of children per round
// trip. A connection serves one request at a time, so one slot is
// enough; a second registrant, or any registrant when the parent context
// can end on its own (which end would not see), is refused and falls
// back to context.AfterFunc.
type connCtx struct {
	context.Context // cancelled by end
	cancel          context.CancelFunc
	own             bool // only end ends the context: its parent never does

	mu    sync.Mutex
	ended bool
	slot  interface{ Abort() }

	local net.Addr // http.LocalAddrContextKey's value
}

// Value answers http.LocalAddrContextKey, as net/http's server context
// does, without a context.WithValue of its own per connection.
func (x *connCtx) Value(key any) any {
	if key == http.LocalAddrContextKey {
		return x.local
	}
	return x.Context.Value(key)
}

func (x *connCtx) init(parent context.Context) {
	x.Context, x.cancel = context.WithCancel(parent)
	x.own = parent.Done() == nil
}

// NotifyAbort arranges for a.Abort to run once the context ends. False
// means it will not: the context has ended, the slot is taken, or the
// parent could end the context unseen.
func (x *connCtx) NotifyAbort(a interface{ Abort() }) bool {
	if !x.own {
		return false
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.ended || x.slot != nil {
		return false
	}
	x.slot = a
	return true
}

// StopAbort undoes NotifyAbort(a), as the stop function of
// context.AfterFunc does: false means a.Abort has run or is running.
func (x *connCtx) StopAbort(a interface{ Abort() }) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.slot != a {
		return false
	}
	x.slot = nil
	return true
}

// end cancels the context, then runs the registered abort (after the
// cancel, as context.AfterFunc would, so that it sees the context's
// error).
func (x *connCtx) end() {
	x.cancel()
	x.mu.Lock()
	x.ended = true
	a := x.slot
	x.slot = nil
	x.mu.Unlock()
	if a != nil {
		a.Abort()
	}
}
