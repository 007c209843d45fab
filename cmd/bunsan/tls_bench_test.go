package main

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"bunsan/internal/testutil/nginxtest"
)

// TestTLSThroughputVsNginx measures TLS handshakes per second and HTTPS
// keep-alive requests per second of bunsan and nginx, one core each, same
// ECDSA P-256 certificate, both answering "return 200" locally. It runs
// only with BUNSAN_TLS_BENCH=1 (it takes a while and its numbers depend on
// the machine); docs/tls-performance.md records a run.
func TestTLSThroughputVsNginx(t *testing.T) {
	if os.Getenv("BUNSAN_TLS_BENCH") != "1" {
		t.Skip("set BUNSAN_TLS_BENCH=1 to run")
	}
	dir := t.TempDir()
	ca := newCA(t, dir, "bench")
	cert, key := ca.issue(t, leaf{base: "bench", names: []string{"bench.test"}})
	// The e2e binary is built with -race; measure a plain build.
	bin := filepath.Join(dir, "bunsan-bench")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v %s", err, out)
	}
	bl, nl := freePort(t), freePort(t)
	conf := filepath.Join(dir, "bunsan.conf")
	writeFile(t, conf, []byte(fmt.Sprintf(`pid off; http { server { listen %s ssl; ssl_certificate %s; ssl_certificate_key %s; return 200 "ok"; } }`, bl, cert, key)), 0o644)
	cmd := exec.Command(bin, "-p", dir, "-c", conf)
	cmd.Env = append(os.Environ(), "GOMAXPROCS=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	nginxtest.Start(t, nginxtest.Config{
		HTTP: fmt.Sprintf(`server { listen %s ssl; ssl_certificate %s; ssl_certificate_key %s; return 200 "ok"; }`, nl, cert, key),
		Wait: []string{nl},
	})
	waitListening(t, bl)
	// P-256 for both: Go's client would otherwise offer the hybrid
	// X25519MLKEM768, which bunsan takes and nginx's OpenSSL 3.0 does not
	// know, and the two would not do the same work.
	cfg := &tls.Config{ServerName: "bench.test", RootCAs: ca.pool(), CurvePreferences: []tls.CurveID{tls.CurveP256}}
	hybrid := &tls.Config{ServerName: "bench.test", RootCAs: ca.pool()} // bunsan only
	for _, s := range []struct{ name, addr string }{{"bunsan", bl}, {"nginx", nl}} {
		hsHybrid := 0.0
		if s.name == "bunsan" {
			hsHybrid = rate(t, 8, 3*time.Second, func() error {
				c, err := tls.Dial("tcp", s.addr, hybrid)
				if err != nil {
					return err
				}
				return c.Close()
			})
		}
		hs := rate(t, 8, 3*time.Second, func() error {
			c, err := tls.Dial("tcp", s.addr, cfg)
			if err != nil {
				return err
			}
			return c.Close()
		})
		tr := &http.Transport{TLSClientConfig: cfg, MaxIdleConnsPerHost: 8}
		client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
		ka := rate(t, 8, 3*time.Second, func() error {
			resp, err := client.Get("https://" + s.addr + "/")
			if err != nil {
				return err
			}
			io.Copy(io.Discard, resp.Body)
			return resp.Body.Close()
		})
		tr.CloseIdleConnections()
		t.Logf("%s: %.0f TLS 1.3 handshakes/s (P-256), %.0f with Go's default key shares, %.0f HTTPS keep-alive requests/s", s.name, hs, hsHybrid, ka)
	}
}

// rate runs op from n goroutines for d and returns completed ops per second.
func rate(t *testing.T, n int, d time.Duration, op func() error) float64 {
	t.Helper()
	var done atomic.Int64
	var failed atomic.Value
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				if err := op(); err != nil {
					failed.Store(err)
					return
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		t.Fatal(err)
	}
	return float64(done.Load()) / d.Seconds()
}

// waitListening waits until addr accepts connections, bounded.
func waitListening(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s does not accept connections", addr)
		}
		time.Sleep(10 * time.Millisecond) // pacing the readiness poll
	}
}
