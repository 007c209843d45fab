package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// restartable is a backend that can be stopped gracefully and started
// again on the same address, as a deploy does to an application server.
type restartable struct {
	t      *testing.T
	name   string
	addr   string
	srv    *http.Server
	served atomic.Int64
}

func newRestartable(t *testing.T, name string) *restartable {
	t.Helper()
	b := &restartable{t: t, name: name, addr: freePort(t)}
	b.start()
	t.Cleanup(func() {
		if b.srv != nil {
			b.srv.Close()
		}
	})
	return b
}

func (b *restartable) start() {
	b.t.Helper()
	ln, err := net.Listen("tcp", b.addr)
	if err != nil {
		b.t.Fatalf("restart %s: %v", b.name, err)
	}
	b.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.served.Add(1)
		fmt.Fprint(w, b.name)
	})}
	go b.srv.Serve(ln)
}

// stop finishes the requests in flight and closes, like an application
// server told to shut down.
func (b *restartable) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b.srv.Shutdown(ctx)
	b.srv = nil
}

// waitServing waits until the balancer sends the backend traffic again:
// the "health-check, enable" step of a rolling deploy. With passive health
// only, that is after fail_timeout, when bunsan probes it again.
func (b *restartable) waitServing(t *testing.T) {
	t.Helper()
	from := b.served.Load()
	deadline := time.Now().Add(30 * time.Second)
	for b.served.Load() < from+10 {
		if time.Now().After(deadline) {
			t.Fatalf("%s never got traffic back", b.name)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestRollingDeployUnderLoad stops and restarts every backend in turn
// while clients send requests: passive failover (proxy_next_upstream
// error) carries every request to a live server, and the next backend is
// stopped only once the restarted one serves again.
func TestRollingDeployUnderLoad(t *testing.T) {
	bs := []*restartable{newRestartable(t, "a"), newRestartable(t, "b"), newRestartable(t, "c")}
	lb := freePort(t)
	start(t, t.TempDir(), fmt.Sprintf(`http {
    upstream app { server %s max_fails=1 fail_timeout=1s; server %s max_fails=1 fail_timeout=1s; server %s max_fails=1 fail_timeout=1s; }
    server { listen %s; location / { proxy_pass http://app; } }
}`, bs[0].addr, bs[1].addr, bs[2].addr, lb))
	l := startLoad(t, "http://"+lb+"/", 4)
	l.waitSent(t, 100)
	for _, b := range bs {
		b.stop()
		l.waitSent(t, 200) // the new version is "deploying"
		b.start()
		b.waitServing(t)
	}
	l.check(t, "rolling deploy")
}

// TestBlueGreenUnderLoad switches the upstream from the blue servers to
// the green ones with a reload, then stops blue.
func TestBlueGreenUnderLoad(t *testing.T) {
	blue := []*restartable{newRestartable(t, "blue1"), newRestartable(t, "blue2")}
	green := []*restartable{newRestartable(t, "green1"), newRestartable(t, "green2")}
	lb := freePort(t)
	dir := t.TempDir()
	conf := func(a, b *restartable) string {
		return fmt.Sprintf("error_log logs/error.log info;\nhttp { upstream app { server %s; server %s; } server { listen %s; location / { proxy_pass http://app; } } }\n", a.addr, b.addr, lb)
	}
	p := start(t, dir, conf(blue[0], blue[1]))
	l := startLoad(t, "http://"+lb+"/", 4)
	l.waitSent(t, 200)
	os.WriteFile(filepath.Join(dir, "bunsan.conf"), []byte(conf(green[0], green[1])), 0o644)
	p.signal(t, syscall.SIGHUP)
	waitLog(t, filepath.Join(dir, "logs", "error.log"), "configuration reloaded", 1)
	l.waitSent(t, 200)
	for _, b := range blue {
		b.stop()
	}
	l.waitSent(t, 200)
	l.check(t, "blue-green switch")
	client := &http.Client{Timeout: 10 * time.Second}
	for i := 0; i < 4; i++ {
		if _, body := get(t, client, "http://"+lb+"/"); body != "green1" && body != "green2" {
			t.Fatalf("after the switch %q answered", body)
		}
	}
}
