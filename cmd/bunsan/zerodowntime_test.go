package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// load sends GETs through the balancer from a few clients until stopped
// (or a bound on count and time is hit) and counts what failed.
type load struct {
	sent, failed atomic.Int64
	lastErr      atomic.Value
	stop         chan struct{}
	wg           sync.WaitGroup
}

func startLoad(t *testing.T, url string, clients int) *load {
	t.Helper()
	l := &load{stop: make(chan struct{})}
	deadline := time.Now().Add(60 * time.Second)
	for i := 0; i < clients; i++ {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
			defer client.CloseIdleConnections()
			for n := 0; n < 20000 && time.Now().Before(deadline); n++ {
				select {
				case <-l.stop:
					return
				default:
				}
				l.sent.Add(1)
				resp, err := client.Get(url)
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if err == nil && resp.StatusCode != 200 {
						err = fmt.Errorf("status %d", resp.StatusCode)
					}
				}
				if err != nil {
					l.failed.Add(1)
					l.lastErr.Store(err.Error())
				}
			}
		}()
	}
	t.Cleanup(l.finish)
	return l
}

// finish stops the clients and waits for them; safe to call twice.
func (l *load) finish() {
	select {
	case <-l.stop:
	default:
		close(l.stop)
	}
	l.wg.Wait()
}

// waitSent waits until n more requests have been sent, so that each step
// of a test happens while traffic flows.
func (l *load) waitSent(t *testing.T, n int64) {
	t.Helper()
	target := l.sent.Load() + n
	deadline := time.Now().Add(30 * time.Second)
	for l.sent.Load() < target {
		if time.Now().After(deadline) {
			t.Fatalf("load stalled at %d requests", l.sent.Load())
		}
		time.Sleep(time.Millisecond)
	}
}

func (l *load) check(t *testing.T, what string) {
	t.Helper()
	l.finish()
	t.Logf("%s: %d requests sent, %d failed", what, l.sent.Load(), l.failed.Load())
	if f := l.failed.Load(); f != 0 {
		t.Errorf("%s: %d of %d requests failed; last error: %v", what, f, l.sent.Load(), l.lastErr.Load())
	}
}

// logCount counts lines holding text in the error log file.
func logCount(path, text string) int {
	b, _ := os.ReadFile(path)
	return strings.Count(string(b), text)
}

func waitLog(t *testing.T, path, text string, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for logCount(path, text) < n {
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(path)
			t.Fatalf("the log never had %d × %q:\n%s", n, text, b)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestReloadsUnderLoad(t *testing.T) {
	backends := []string{backend(t, "a"), backend(t, "b"), backend(t, "c")}
	lb := freePort(t)
	dir := t.TempDir()
	logFile := filepath.Join(dir, "logs", "error.log")
	conf := func(servers []string) string {
		var b strings.Builder
		fmt.Fprintf(&b, "error_log logs/error.log info;\nhttp {\n upstream app {\n")
		for _, s := range servers {
			fmt.Fprintf(&b, "  server %s;\n", s)
		}
		fmt.Fprintf(&b, " }\n server { listen %s; location / { proxy_pass http://app; } }\n}\n", lb)
		return b.String()
	}
	p := start(t, dir, conf(backends))
	l := startLoad(t, "http://"+lb+"/", 4)
	l.waitSent(t, 100)
	file := filepath.Join(dir, "bunsan.conf")
	for i := 1; i <= 20; i++ {
		servers := backends
		if i%2 == 1 {
			servers = backends[i%3 : i%3+1] // the upstream list changes on every other reload
		}
		os.WriteFile(file, []byte(conf(servers)), 0o644)
		p.signal(t, syscall.SIGHUP)
		waitLog(t, logFile, "configuration reloaded", i)
		l.waitSent(t, 20)
	}
	// An invalid configuration changes nothing and names file:line.
	os.WriteFile(file, []byte("http {\n server {\n  listen "+lb+";\n  location / { proxy_pass app; }\n }\n}\n"), 0o644)
	p.signal(t, syscall.SIGHUP)
	waitLog(t, logFile, "reload failed", 1)
	if b, _ := os.ReadFile(logFile); !strings.Contains(string(b), file+":4:") {
		t.Errorf("the failed reload does not name %s:4:\n%s", file, b)
	}
	l.waitSent(t, 50)
	l.check(t, "20 reloads")
}

// TestGracefulQuit sends QUIT while slow requests are in flight: new
// connections are refused, the requests in flight complete, exit status 0.
func TestGracefulQuit(t *testing.T) {
	arrived := make(chan struct{}, 10)
	release := make(chan struct{})
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	slow := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release // stands for a 3-second request, without a clock
		io.WriteString(w, "done")
	})}
	go slow.Serve(ln)
	t.Cleanup(func() { slow.Close() })
	lb := freePort(t)
	p := start(t, t.TempDir(), fmt.Sprintf(`http {
    upstream app { server %s; }
    server { listen %s; location / { proxy_pass http://app; } }
}`, ln.Addr(), lb))
	const n = 3
	results := make(chan string, n)
	for i := 0; i < n; i++ {
		go func() {
			resp, err := (&http.Client{Timeout: 30 * time.Second}).Get("http://" + lb + "/")
			if err != nil {
				results <- err.Error()
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			results <- strconv.Itoa(resp.StatusCode) + " " + string(b)
		}()
	}
	for i := 0; i < n; i++ {
		<-arrived
	}
	p.signal(t, syscall.SIGQUIT)
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.Dial("tcp", lb)
		if err != nil {
			break // no longer accepting
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("still accepting after QUIT")
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(release)
	for i := 0; i < n; i++ {
		if r := <-results; r != "200 done" {
			t.Errorf("request in flight at QUIT got %q, want 200 done", r)
		}
	}
	p.wait(t)
}

// TestBinaryUpgradeUnderLoad sends USR2 while clients send requests: the
// new process inherits the listener, the old one drains and exits, and no
// request fails.
func TestBinaryUpgradeUnderLoad(t *testing.T) {
	backends := []string{backend(t, "a"), backend(t, "b"), backend(t, "c")}
	lb := freePort(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "bunsan.conf")
	os.WriteFile(file, []byte(fmt.Sprintf(`http {
    upstream app { server %s; server %s; server %s; }
    server { listen %s; location / { proxy_pass http://app; } }
}`, backends[0], backends[1], backends[2], lb)), 0o644)
	u := startUpgradable(t, dir, file)

	l := startLoad(t, "http://"+lb+"/", 4)
	l.waitSent(t, 200)
	newPID := u.upgrade(t)
	l.waitSent(t, 200)
	l.check(t, "binary upgrade")
	if err := syscall.Kill(newPID, 0); err != nil {
		t.Fatalf("new process %d is not running: %v", newPID, err)
	}
	syscall.Kill(newPID, syscall.SIGTERM)
}

// upgradable is a bunsan started for a binary upgrade test. Its output
// goes to a file, not a pipe: the new process inherits it and outlives
// the one the test started.
type upgradable struct {
	cmd     *exec.Cmd
	exited  chan error
	pidFile string
	oldPID  int
}

func startUpgradable(t *testing.T, dir, file string) *upgradable {
	t.Helper()
	out, err := os.Create(filepath.Join(dir, "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { out.Close() })
	u := &upgradable{cmd: exec.Command(binary, "-p", dir, "-c", file), exited: make(chan error, 1),
		pidFile: filepath.Join(dir, "logs", "bunsan.pid")}
	u.cmd.Stderr = out
	if err := u.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { u.exited <- u.cmd.Wait() }()
	u.oldPID = u.cmd.Process.Pid
	t.Cleanup(func() {
		u.cmd.Process.Kill()
		if pid, err := readPIDFile(u.pidFile); err == nil && pid != u.oldPID {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	waitPID(t, u.pidFile, func(pid int) bool { return pid == u.oldPID })
	return u
}

// upgrade sends USR2 and waits until the pid file names a new process and
// the old one has exited cleanly; it returns the new pid.
func (u *upgradable) upgrade(t *testing.T) int {
	t.Helper()
	u.cmd.Process.Signal(syscall.SIGUSR2)
	newPID := waitPID(t, u.pidFile, func(pid int) bool { return pid != u.oldPID })
	select {
	case err := <-u.exited:
		if err != nil {
			t.Errorf("old process exited with %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("old process did not exit after the upgrade")
	}
	return newPID
}

func readPIDFile(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

// waitPID waits until the pid file names a process that ok accepts.
func waitPID(t *testing.T, path string, ok func(int) bool) int {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if pid, err := readPIDFile(path); err == nil && ok(pid) {
			return pid
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(path)
			t.Fatalf("pid file %s holds %q", path, b)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestBinaryUpgradeStream checks that stream sockets, TCP and UDP, pass
// to the new binary too (no reuseport needed): after USR2 and the old
// process's exit, both still answer.
func TestBinaryUpgradeStream(t *testing.T) {
	tcpEcho, _ := net.Listen("tcp", "127.0.0.1:0")
	t.Cleanup(func() { tcpEcho.Close() })
	go func() {
		for {
			c, err := tcpEcho.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(c, c); c.Close() }()
		}
	}()
	udpEcho, _ := net.ListenPacket("udp", "127.0.0.1:0")
	t.Cleanup(func() { udpEcho.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := udpEcho.ReadFrom(buf)
			if err != nil {
				return
			}
			udpEcho.WriteTo(buf[:n], from)
		}
	}()
	tcpAddr, udpAddr := freePort(t), freePort(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "bunsan.conf")
	os.WriteFile(file, []byte(fmt.Sprintf(`stream {
    server { listen %s; proxy_pass %s; }
    server { listen %s udp; proxy_pass %s; proxy_responses 1; }
}`, tcpAddr, tcpEcho.Addr(), udpAddr, udpEcho.LocalAddr())), 0o644)
	u := startUpgradable(t, dir, file)
	echo := func(network, addr string) {
		t.Helper()
		c, err := net.DialTimeout(network, addr, 5*time.Second)
		if err != nil {
			t.Fatalf("%s %s: %v", network, addr, err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Write([]byte("ping")); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 4)
		if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "ping" {
			t.Fatalf("%s echo through %s: %q %v", network, addr, buf, err)
		}
	}
	echo("tcp", tcpAddr)
	echo("udp", udpAddr)
	newPID := u.upgrade(t)
	echo("tcp", tcpAddr)
	echo("udp", udpAddr)
	syscall.Kill(newPID, syscall.SIGTERM)
}
