package main

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestCPUProfileEnv: BUNSAN_CPUPROFILE makes the binary write a CPU
// profile (gzip-compressed protobuf) of its whole run, flushed when it
// stops; worker_processes and worker_rlimit_nofile load and apply.
func TestCPUProfileEnv(t *testing.T) {
	dir := t.TempDir()
	be := backend(t, "a")
	lb := freePort(t)
	prof := filepath.Join(dir, "cpu.prof")
	p := startEnv(t, dir, fmt.Sprintf(`worker_processes 1; worker_rlimit_nofile 4096;
http { server { listen %s; location / { proxy_pass http://%s; } } }`, lb, be), []string{"BUNSAN_CPUPROFILE=" + prof})
	client := &http.Client{}
	for i := 0; i < 20; i++ {
		if code, body := get(t, client, "http://"+lb+"/"); code != 200 || !strings.Contains(body, "a") {
			t.Fatalf("request %d: %d %q", i, code, body)
		}
	}
	p.signal(t, syscall.SIGTERM)
	p.wait(t)
	b, err := os.ReadFile(prof)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte{0x1f, 0x8b}) {
		t.Errorf("profile is not gzip data: % x", b[:min(len(b), 8)])
	}
}
