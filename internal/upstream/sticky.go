package upstream

import (
	"sync"
	"time"
)

// Sticky sessions bind a client to a server (NGINX Plus "sticky", now in
// open-source nginx's ngx_http_upstream_sticky_module.c). This package
// owns the binding; the HTTP proxy reads and sets cookies.
//
//   - cookie: the proxy passes the cookie's value as PickRequest.Route and
//     sets the cookie to Peer.StickyID() of the server picked;
//   - route: the proxy passes the first non-empty route variable as Route,
//     matched against each server's route= (StickyID);
//   - learn: the proxy passes the session ID found by the lookup
//     variables as Route; after a response it calls Group.Learn with the
//     session created (create variables) or the one used, and the Store
//     keeps the session → server table, bounded and expiring after
//     timeout without use.
//
// A bound server is used, as nginx uses pc->hint, when it is not down,
// unhealthy, failed or full and not yet tried; draining servers still
// take their sticky requests. Otherwise the method chooses. Picks by
// binding do not advance round-robin weights.

// stickyPeer returns the server bound by the request's Route, if usable.
func (c *pickCtx) stickyPeer(sv *serverSet) *Peer {
	g := c.g
	sid := c.route
	if g.sticky == "learn" {
		var ok bool
		if sid, ok = g.gs.learn.lookup(sid, c.clock()); !ok {
			return nil
		}
	}
	p := sv.bySID[sid]
	if p == nil {
		return nil
	}
	if c.t.has(p.index) {
		c.skip(p, SkipTried)
		return nil
	}
	if r := p.avail(c, true, false); r != 0 {
		c.skip(p, r)
		return nil
	}
	if c.ex != nil {
		c.ex.Method = "sticky " + g.sticky + " (" + g.methodName + ")"
		c.ex.Score = "route=" + sid
	}
	return p
}

// Learn records, for "sticky learn", that session is served by p: after
// a successful response, with create true for a session the server has
// just created (found by the create variables) and false for the session
// the request came with (found by the lookup variables), which only
// refreshes an existing binding, as nginx's learn_peer does.
func (g *Group) Learn(p *Peer, session string, create bool) {
	if g.sticky != "learn" || p == nil || session == "" {
		return
	}
	g.gs.learn.learn(session, p.sid, create, g.nowNanos())
}

// learnTable is the session → server table of sticky learn: a map with
// an LRU list ordered by last use, bounded in size; entries unused for
// the timeout are dropped when met or when room is needed.
type learnTable struct {
	mu         sync.Mutex
	m          map[string]*learnEntry
	head, tail *learnEntry // head: most recently used
	max        int
	timeout    int64
}

type learnEntry struct {
	key, sid   string
	last       int64
	prev, next *learnEntry
}

// Defaults of sticky learn.
const (
	DefaultLearnTimeout  = 10 * time.Minute // nginx's timeout= default
	DefaultLearnSessions = 65536            // when no zone size is given
	learnEntryBytes      = 128              // zone bytes per session, for ZoneSize
)

func newLearnTable() *learnTable {
	return &learnTable{m: map[string]*learnEntry{}}
}

func (l *learnTable) configure(st *StickySpec) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.timeout = int64(DefaultLearnTimeout)
	if st.Timeout > 0 {
		l.timeout = int64(st.Timeout)
	}
	l.max = DefaultLearnSessions
	if st.ZoneSize > 0 {
		l.max = max(int(st.ZoneSize/learnEntryBytes), 1)
	}
	for len(l.m) > l.max {
		l.remove(l.tail)
	}
}

func (l *learnTable) lookup(key string, now int64) (string, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.m[key]
	if e == nil {
		return "", false
	}
	if now-e.last > l.timeout {
		l.remove(e)
		return "", false
	}
	return e.sid, true
}

func (l *learnTable) learn(key, sid string, create bool, now int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e := l.m[key]; e != nil && now-e.last <= l.timeout {
		e.sid, e.last = sid, now
		l.unlink(e)
		l.pushFront(e)
		return
	} else if e != nil {
		l.remove(e)
	}
	if !create {
		return
	}
	for l.tail != nil && (now-l.tail.last > l.timeout || len(l.m) >= l.max) {
		l.remove(l.tail)
	}
	e := &learnEntry{key: key, sid: sid, last: now}
	l.m[key] = e
	l.pushFront(e)
}

func (l *learnTable) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.m)
}

func (l *learnTable) remove(e *learnEntry) {
	l.unlink(e)
	delete(l.m, e.key)
}

func (l *learnTable) unlink(e *learnEntry) {
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		l.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		l.tail = e.prev
	}
	e.prev, e.next = nil, nil
}

func (l *learnTable) pushFront(e *learnEntry) {
	e.next = l.head
	if l.head != nil {
		l.head.prev = e
	}
	l.head = e
	if l.tail == nil {
		l.tail = e
	}
}
