package health

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"bunsan/internal/config"
	"bunsan/internal/httpproxy"
	"bunsan/internal/upstream"
)

// loadConfig loads text as a configuration file.
func loadConfig(t *testing.T, text string) *config.Model {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "bunsan.conf")
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	m, _, err := config.Load(config.Options{Prefix: dir + "/", File: file})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// From configuration text to requests through bunsan's HTTP proxy: a
// server whose /health fails stops getting requests, and gets them again
// once it recovers.
func TestThroughProxy(t *testing.T) {
	a, b := newBackend(t, "a"), newBackend(t, "b")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	m := loadConfig(t, `http {
  match healthy { status 200; body ~ "^[ab]$"; }
  upstream app { server `+a.addr()+`; server `+b.addr()+`; }
  server {
    listen `+addr+`;
    location / { proxy_pass http://app; health_check interval=2s fails=1 passes=1 uri=/health match=healthy; }
  }
}`)
	r := newRig(t)
	snap, err := httpproxy.Build(m, r.store, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	targets := Targets(m, snap.Group, nil)
	if len(targets) != 1 || targets[0].Check.URI != "/health" || targets[0].Check.MatchBlock == nil {
		t.Fatalf("targets %+v", targets)
	}
	var cur atomic.Pointer[httpproxy.Snapshot]
	cur.Store(snap)
	srv := &http.Server{Handler: &httpproxy.Router{Addr: addr, Current: &cur}}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	served := func() map[string]int {
		seen := map[string]int{}
		for range 6 {
			resp, err := http.Get("http://" + addr + "/")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			seen[string(body)]++
		}
		return seen
	}

	r.checker.Start(targets)
	r.next(t)
	r.clock.Step(t)
	r.next(t)
	if seen := served(); seen["a"] != 3 || seen["b"] != 3 {
		t.Fatalf("both healthy: %v", seen)
	}
	bad := "maintenance"
	b.body.Store(&bad) // 200, but the match wants its name
	r.clock.Step(t)    // round 2: a
	r.next(t)
	r.clock.Step(t)
	if res := r.next(t); res.OK {
		t.Fatal("the match passed a wrong body")
	}
	if seen := served(); seen["a"] != 6 {
		t.Fatalf("b unhealthy: %v", seen)
	}
	name := "b"
	b.body.Store(&name)
	r.clock.Step(t)
	r.next(t)
	r.clock.Step(t)
	if res := r.next(t); !res.OK {
		t.Fatalf("b did not recover: %v", res.Err)
	}
	if seen := served(); seen["b"] == 0 {
		t.Fatalf("b recovered but gets nothing: %v", seen)
	}
	if got := b.hits.Load(); got < 3 {
		t.Errorf("b saw %d checks", got)
	}
}

// A server added through the API under a mandatory check takes no
// request before its first check, once Sync has seen it.
func TestSyncAddedServer(t *testing.T) {
	r := newRig(t)
	a, b := newBackend(t, "a"), newBackend(t, "b")
	b.block = make(chan struct{})
	g := r.group(t, "b", 0, a.addr())
	r.checker.Start([]Target{{Check: httpCheck(func(c *config.HealthCheck) { c.Mandatory = true }), Group: g}})
	r.next(t)
	if _, err := g.AddServer(upstream.ServerSpec{Addr: b.addr(), Weight: 1, MaxFails: 1, FailTimeout: time.Second}); err != nil {
		t.Fatal(err)
	}
	r.checker.Sync(false, "b")
	for range 4 {
		p, err := g.Pick(&upstream.PickRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if p.Addr() == b.addr() {
			t.Fatal("an unchecked mandatory server took a request")
		}
		g.Done(p, upstream.Outcome{Result: upstream.Success})
	}
	st, ok := r.checker.Status(false, "b", b.addr())
	if !ok || !st.Checking || st.Healthy {
		t.Errorf("added server status %+v", st)
	}
	close(b.block)
	if !strings.Contains(healthyOf(g), "false") {
		t.Errorf("healthy: %s", healthyOf(g))
	}
}
