// Package upstream owns upstream groups: their servers, the live state of
// each server (connections, failures, drain, slow start, latency averages)
// and the choice of a server for each request or connection, with nginx's
// exact semantics for every balancing method.
//
// It is shared by the HTTP proxy and the stream proxy. It has no network
// code and does not import net/http: callers pass what a method needs (the
// client address, the evaluated hash key, a sticky route) and report how
// each attempt ended on the handle a pick returns.
//
// # Groups, state and reloads
//
// Live state is keyed by (group name, server address) in a Store that
// outlives configuration snapshots, so a reload keeps the state of servers
// that stay. Store.Build turns a Spec into a Group: configuration fixed
// for the Group's life, wired to that state. A reload builds new Groups
// beside the old ones; requests in flight finish on the Group they picked
// from and report to it, and both see the same counters.
//
// # Run-time changes (the upstream API)
//
// AddServer, UpdateServer and RemoveServer change a Group's servers while
// it serves: each builds a new server set from the list kept in the Store
// and swaps it in with one atomic pointer store, so picks stay lock-free
// and allocation-free; a request's retries stay on the set it started on.
// Every server has an id, assigned when it joins (configuration order
// first) and kept while it stays, across reloads and changes. A reload
// keeps API changes where the configuration did not change that server
// (mergeServers); with "state FILE" every change is written to the file,
// which the config package reads back at the next load or restart.
//
// # One request
//
//	var tried upstream.Tried // per request; zero value ready
//	r := upstream.PickRequest{ClientAddr: ip, HashKey: key, Tried: &tried}
//	for {
//		p, err := g.Pick(&r) // upstream.ErrNoLiveUpstreams → 502
//		...                   // connect to p.Addr(), proxy
//		g.Done(p, upstream.Outcome{Result: res, HeaderTime: ht, ResponseTime: rt})
//		if res == upstream.Success || !retry { break }
//	}
//
// Pick + Done allocate nothing (with a Tried per request; groups over 64
// servers allocate its bitmap once per Tried, which Reset keeps).
//
// # Methods
//
// round-robin (default) and least_conn, ip_hash, hash and hash
// consistent, random and random two least_conn: nginx's algorithms, with
// nginx's arithmetic, checked against a real nginx in nginx_diff_test.go
// (same server for every key, client and position in the sequence,
// with down and failing servers). least_time header|last_byte [inflight]:
// open-source nginx's module (formerly NGINX Plus). Beyond nginx: random
// two least_time=… scores with peak EWMA (power of two choices), and hash
// consistent balance_factor=F bounds every server's load to F times the
// average (consistent hashing with bounded loads). Each method's file
// starts with its algorithm and its source.
//
// What every method shares is applied once, in group.go, not inside the
// methods: down, drain, health, max_fails/fail_timeout, max_conns, slow
// start, tried servers, backup fallback and sticky bindings.
//
// # Passive health, exactly as nginx
//
// A failure (connect error, timeout, invalid header, a bad status that
// proxy_next_upstream names) counts towards max_fails; a server with
// max_fails failures, the last within fail_timeout, is skipped until
// fail_timeout has passed since then, when one request probes it (nginx's
// "checked"); a success after that clears the count. max_fails=0 turns
// accounting off. A group of one server (and no backup) never marks it
// failed. When every primary is unavailable the backups serve; when
// nothing is left, ErrNoLiveUpstreams. nginx counts time in whole
// seconds, so its window lasts between fail_timeout and fail_timeout+1s;
// here it is exact.
//
// # Concurrency
//
// nginx runs each worker single-threaded; here picks run in parallel.
// Counters are atomics; max_conns is enforced with compare-and-swap, so it
// holds under concurrency. Smooth weighted round-robin (and the
// round-robin tie-break of least_conn and least_time) needs a consistent
// view of every server's current weight and runs in a short critical
// section per server set, as nginx takes its peers lock; ip_hash, hash,
// consistent hash and random take no lock. least_time and peak EWMA keep
// their averages behind a per-server mutex. The clock is read only when a
// decision needs it, and most picks of healthy servers never do.
//
// # Not done yet
//
// "resolve" and "service=" are recorded but names are resolved once, by
// the caller's dialer: there is no periodic DNS re-resolution of servers.
// The effective weights of a server whose weight changed, and the
// round-robin position, restart at a reload or an API change, as in
// nginx.
package upstream
