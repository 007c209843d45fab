package stream

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"bunsan/internal/upstream"
)

// Proxy is the stream proxy of a running process: the current Snapshot,
// and the live state that outlives snapshots (the upstream Store,
// limit_conn zones, open access logs, sessions in progress).
type Proxy struct {
	log   *slog.Logger
	store *upstream.Store
	now   func() time.Time
	// rateNow and rateSleep drive proxy_upload_rate and
	// proxy_download_rate; tests replace them with a fake clock.
	rateNow   func() time.Time
	rateSleep func(time.Duration)
	// udpSessions bounds each UDP listener's session table.
	udpSessions int

	current atomic.Pointer[Snapshot]
	zones   zones
	logs    logFiles
	nextID  atomic.Uint64

	mu       sync.Mutex
	sessions map[io.Closer]struct{} // open connections, for Close
	wg       sync.WaitGroup         // sessions and serve loops
}

// New returns a Proxy that picks servers from groups built in store
// (which must not be the HTTP proxy's: nginx keeps the names apart).
func New(log *slog.Logger, store *upstream.Store) *Proxy {
	return &Proxy{log: log, store: store, now: time.Now, rateNow: time.Now, rateSleep: time.Sleep, udpSessions: DefaultUDPSessions, sessions: map[io.Closer]struct{}{}}
}

// Swap makes snap current. New connections use it; sessions in progress
// keep the one they started with. Groups that left the configuration
// lose their state.
func (p *Proxy) Swap(snap *Snapshot) {
	p.current.Store(snap)
	names := make([]string, 0, len(snap.groups))
	for n := range snap.groups {
		names = append(names, n)
	}
	p.store.Retain(names...)
}

// ServeTCP accepts connections on ln for the listen key until ln is
// closed, then returns nil; other accept errors are retried. Each
// connection is served by the server that the current snapshot binds to
// key.
func (p *Proxy) ServeTCP(ln net.Listener, key string) error {
	var backoff time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			// Out of file descriptors, an aborted handshake: keep the
			// listener and retry after a pause growing to a second, as
			// net/http does (nginx disables accept for a while too).
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			p.log.Error("stream accept failed; retrying", "listen", key, "error", err, "in", backoff)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		tc, ok := c.(*net.TCPConn)
		if !ok {
			c.Close()
			continue
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.serveTCP(tc, key)
		}()
	}
}

// track records an open connection so that Close can end it; untrack
// forgets it.
func (p *Proxy) track(c io.Closer) {
	p.mu.Lock()
	p.sessions[c] = struct{}{}
	p.mu.Unlock()
}

func (p *Proxy) untrack(c io.Closer) {
	p.mu.Lock()
	delete(p.sessions, c)
	p.mu.Unlock()
}

// Wait waits for every session to end, up to ctx; then it closes those
// left, as nginx does at worker_shutdown_timeout.
func (p *Proxy) Wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() { p.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		p.Close()
		<-done
		return ctx.Err()
	}
}

// ReopenLogs reopens the access log files (USR1, after log rotation).
func (p *Proxy) ReopenLogs() error { return p.logs.reopen() }

// Close ends every session at once. The listeners are the caller's.
func (p *Proxy) Close() {
	p.mu.Lock()
	for c := range p.sessions {
		c.Close()
	}
	p.mu.Unlock()
}
