package stream

import (
	"net/netip"
	"sync"

	"bunsan/internal/config"
)

// allowed applies allow/deny in order, as ngx_stream_access_module: the
// first rule that matches decides; no match allows.
func allowed(rules []config.AccessRule, a netip.Addr) bool {
	a = a.Unmap()
	for _, r := range rules {
		if r.All || r.Prefix.Contains(a) {
			return r.Allow
		}
	}
	return true
}

// zone is one limit_conn_zone: connection counts by key. It is live
// state, kept across reloads by name (as nginx keeps a shared zone), so
// connections opened before a reload still count after it.
type zone struct {
	mu     sync.Mutex
	counts map[string]int
	max    int // entries the zone's size allows
}

// zoneEntryBytes approximates nginx's per-key cost in a zone, to turn
// "zone=NAME:SIZE" into a number of keys.
const zoneEntryBytes = 128

// acquire counts one connection for key and says whether it stays within
// limit; a full zone refuses, as nginx does when it cannot allocate.
func (z *zone) acquire(key string, limit int) bool {
	z.mu.Lock()
	defer z.mu.Unlock()
	n, ok := z.counts[key]
	if !ok && len(z.counts) >= z.max {
		return false
	}
	if n >= limit {
		return false
	}
	z.counts[key] = n + 1
	return true
}

func (z *zone) release(key string) {
	z.mu.Lock()
	defer z.mu.Unlock()
	if n := z.counts[key]; n <= 1 {
		delete(z.counts, key)
	} else {
		z.counts[key] = n - 1
	}
}

// zones holds every zone by name for the life of the process.
type zones struct {
	mu sync.Mutex
	m  map[string]*zone
}

func (zs *zones) get(name string, size int64) *zone {
	zs.mu.Lock()
	defer zs.mu.Unlock()
	if zs.m == nil {
		zs.m = map[string]*zone{}
	}
	z := zs.m[name]
	if z == nil {
		z = &zone{counts: map[string]int{}}
		zs.m[name] = z
	}
	z.mu.Lock()
	z.max = int(max(size/zoneEntryBytes, 1))
	z.mu.Unlock()
	return z
}

// limitRef is one limit_conn of a server.
type limitRef struct {
	zone *zone
	key  *template
	max  int
}

// acquireLimits takes a slot in every limit_conn of the server and
// returns the function that gives them back, or false (status 503) when
// one is full. An empty key is not counted, as in nginx.
func acquireLimits(s *session, limits []limitRef) (func(), bool) {
	if len(limits) == 0 {
		return func() {}, true
	}
	type held struct {
		z   *zone
		key string
	}
	var got []held
	release := func() {
		for _, h := range got {
			h.z.release(h.key)
		}
	}
	for _, l := range limits {
		key := string(l.key.eval(s, nil))
		if key == "" {
			continue
		}
		if !l.zone.acquire(key, l.max) {
			release()
			return nil, false
		}
		got = append(got, held{l.zone, key})
	}
	return release, true
}
