package main

import (
	"bufio"
	"net/http"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDemo runs "bunsan demo" as a newcomer would and checks that it
// shows three servers answering in turn, then stops cleanly on Ctrl-C.
func TestDemo(t *testing.T) {
	cmd := exec.Command(binary, "demo", "-listen", "127.0.0.1:0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		done <- cmd.Wait()
	}()
	t.Cleanup(func() { cmd.Process.Kill() })

	var answers []string
	var url string
	timeout := time.After(30 * time.Second)
	for ready := false; !ready; {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("demo exited before it was ready: %v", <-done)
			}
			if u, ok := strings.CutPrefix(l, "Load balancer: "); ok {
				url = u
			}
			if strings.Contains(l, "Hello from") {
				answers = append(answers, strings.Fields(l)[3])
			}
			ready = strings.Contains(l, "Press Ctrl-C")
		case <-timeout:
			t.Fatal("demo did not get ready")
		}
	}
	want := []string{"app-1", "app-2", "app-3", "app-1", "app-2", "app-3"}
	if strings.Join(answers, " ") != strings.Join(want, " ") {
		t.Errorf("answers %v, want %v", answers, want)
	}
	// The demo shows the dashboard and the upstream API too.
	client := &http.Client{Timeout: 10 * time.Second}
	if code, body := get(t, client, url+"api/9/http/upstreams/demo_app/servers"); code != 200 || strings.Count(body, `"server"`) != 3 {
		t.Errorf("demo API: %d %s", code, body)
	}
	if code, _ := get(t, client, url+"dashboard/"); code != 200 {
		t.Errorf("demo dashboard: %d", code)
	}
	cmd.Process.Signal(syscall.SIGINT)
	var stopped bool
	for l := range lines {
		stopped = stopped || strings.Contains(l, "stopped")
	}
	if err := <-done; err != nil || !stopped {
		t.Errorf("demo did not stop cleanly: %v (stopped line: %v)", err, stopped)
	}
}
