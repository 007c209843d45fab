package upstream

import (
	"sync"
	"sync/atomic"
	"time"
)

// The API shows when each server was last selected. Reading the clock on
// every pick would double the cost of the cheapest picks (the clock is
// otherwise read only when a decision needs it), and a person reading
// "selected" needs no better than a tenth of a second. So picks on the
// real clock store a coarse time, refreshed by one goroutine for the
// whole process, started by the first pick that needs it. A pick that
// has read the clock anyway stores the exact time; groups on an injected
// clock (tests) read it.

// coarseTick is the coarse clock's resolution.
const coarseTick = 100 * time.Millisecond

var coarse struct {
	once sync.Once
	now  atomic.Int64
}

func coarseNow() int64 {
	coarse.once.Do(func() {
		coarse.now.Store(time.Now().UnixNano())
		go func() {
			for t := range time.Tick(coarseTick) {
				coarse.now.Store(t.UnixNano())
			}
		}()
	})
	return coarse.now.Load()
}

// selectedNow is the time a pick records as its server's "selected".
func (c *pickCtx) selectedNow() int64 {
	if c.now != 0 || !c.g.realClock {
		return c.clock()
	}
	return coarseNow()
}
