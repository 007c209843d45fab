package main

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// tcpBackend is a TCP server on loopback that writes "NAME\n" to every
// connection, then echoes until EOF.
func tcpBackend(t *testing.T, name string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				fmt.Fprintf(c, "%s\n", name)
				io.Copy(c, c)
			}()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return ln.Addr().String()
}

// tcpName connects to addr and returns the first line, "" if the
// connection closed without one.
func tcpName(t *testing.T, addr string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	line, _ := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSuffix(line, "\n")
}

// freeUDP finds a loopback UDP port nothing uses now.
func freeUDP(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	return pc.LocalAddr().String()
}

func TestStreamTCPAndUDP(t *testing.T) {
	a, b := tcpBackend(t, "a"), tcpBackend(t, "b")
	dead := freePort(t)
	echo, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer echo.Close()
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := echo.ReadFrom(buf)
			if err != nil {
				return
			}
			echo.WriteTo(append([]byte("udp:"), buf[:n]...), from)
		}
	}()
	lb, lbUDP, web := freePort(t), freeUDP(t), freePort(t)
	dir := t.TempDir()
	conf := func(servers string) string {
		return fmt.Sprintf(`
events {}
error_log stderr info;
http {
    upstream app { server %s; }
    server { listen %s; location / { return 200 "web"; } }
}
stream {
    upstream app { %s }
    log_format up '$upstream_addr';
    server { listen %s; proxy_pass app; proxy_connect_timeout 2s; access_log logs/stream.log up; }
    server { listen %s udp; proxy_pass %s; proxy_responses 1; }
}`, a, web, servers, lb, lbUDP, echo.LocalAddr())
	}
	p := start(t, dir, conf(fmt.Sprintf("server %s max_fails=1 fail_timeout=1h; server %s; server %s;", dead, a, b)))
	// The dead server is tried once, fails over, and is then skipped.
	var got []string
	for range 4 {
		got = append(got, tcpName(t, lb))
	}
	if strings.Join(got, ",") != "a,b,a,b" {
		t.Errorf("round-robin with a dead server: %v", got)
	}
	uc, err := net.Dial("udp", lbUDP)
	if err != nil {
		t.Fatal(err)
	}
	defer uc.Close()
	uc.SetDeadline(time.Now().Add(10 * time.Second))
	uc.Write([]byte("ping"))
	buf := make([]byte, 100)
	if n, err := uc.Read(buf); err != nil || string(buf[:n]) != "udp:ping" {
		t.Errorf("udp: %q %v", buf[:n], err)
	}

	// Reload with the same servers: the dead one stays failed (state is
	// kept), so no session after the reload tries it.
	p.signal(t, syscall.SIGHUP)
	waitCount(t, p, "configuration reloaded", 1)
	for range 4 {
		if got := tcpName(t, lb); got != "a" && got != "b" {
			t.Fatalf("after reload: %q", got)
		}
	}
	// Lines are written as sessions end, not in the order they began:
	// exactly one session, the first, tried the dead server.
	var tried []string
	for _, l := range waitLines(t, filepath.Join(dir, "logs", "stream.log"), 8) {
		if strings.Contains(l, dead) {
			tried = append(tried, l)
		}
	}
	if len(tried) != 1 || tried[0] != dead+", "+a {
		t.Errorf("sessions that tried the dead server: %q, want one: the first, then a", tried)
	}
	// Reloading to another set of servers takes effect at once.
	tmp := filepath.Join(dir, "next.conf")
	os.WriteFile(tmp, []byte(conf(fmt.Sprintf("server %s;", b))), 0o644)
	os.Rename(tmp, filepath.Join(dir, "bunsan.conf")) // never half-written
	p.signal(t, syscall.SIGHUP)
	waitCount(t, p, "configuration reloaded", 2)
	for range 3 {
		if got := tcpName(t, lb); got != "b" {
			t.Errorf("after the second reload: %q", got)
		}
	}
	p.signal(t, syscall.SIGQUIT)
	p.wait(t)
}

func TestStreamCheckConfig(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "bad.conf")
	os.WriteFile(file, []byte("stream {\n  server {\n    listen 12345;\n    proxy_pass backend;\n  }\n}\n"), 0o644)
	out, err := exec.Command(binary, "-t", "-c", file).CombinedOutput()
	if err == nil || !strings.Contains(string(out), `bad.conf:4:5: no port in upstream "backend"`) {
		t.Errorf("-t: %v\n%s", err, out)
	}
}

// waitCount waits until text appears n times in the process's log.
func waitCount(t *testing.T, p *proc, text string, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for strings.Count(p.stderrString(), text) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%q not %d times in the log:\n%s", text, n, p.stderrString())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitLines waits until a log file has n lines (access logs are written
// as sessions end, after the client saw the connection close).
func waitLines(t *testing.T, path string, n int) []string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		b, _ := os.ReadFile(path)
		lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
		if len(b) > 0 && len(lines) >= n {
			return lines
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %q, want %d lines", path, b, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// tlsNamed is a TLS server with a certificate for name that writes
// "name\n" after the handshake.
func tlsNamed(t *testing.T, name string) string {
	t.Helper()
	cert, key := selfSigned(t, t.TempDir(), name)
	pair, err := tls.LoadX509KeyPair(cert, key)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{pair}})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				fmt.Fprintf(c, "%s\n", name)
				io.Copy(io.Discard, c)
			}()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return ln.Addr().String()
}

// TestStreamSNIRouting: ssl_preread and a map route TLS by server name
// without terminating it, through the real binary.
func TestStreamSNIRouting(t *testing.T) {
	a, b := tlsNamed(t, "a.test"), tlsNamed(t, "b.test")
	lb := freePort(t)
	start(t, t.TempDir(), fmt.Sprintf(`
stream {
    map $ssl_preread_server_name $backend {
        a.test  %s;
        default %s;
    }
    server { listen %s; ssl_preread on; proxy_pass $backend; }
}`, a, b, lb))
	for sni, want := range map[string]string{"a.test": "a.test", "other.test": "b.test"} {
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", lb, &tls.Config{ServerName: sni, InsecureSkipVerify: true})
		if err != nil {
			t.Fatalf("%s: %v", sni, err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		line, _ := bufio.NewReader(c).ReadString('\n')
		c.Close()
		if strings.TrimSpace(line) != want {
			t.Errorf("SNI %s reached %q, want %q", sni, line, want)
		}
	}
}

// TestStreamLogReopen: USR1 reopens the stream access logs after
// logrotate moved them.
func TestStreamLogReopen(t *testing.T) {
	lb := freePort(t)
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "logs"), 0o755) // nginx does not create it either
	p := start(t, dir, fmt.Sprintf(`
stream {
    log_format f '$status';
    server { listen %s; return ok; access_log logs/s.log f; }
}`, lb))
	log := filepath.Join(dir, "logs", "s.log")
	tcpName(t, lb)
	waitLines(t, log, 1)
	if err := os.Rename(log, log+".1"); err != nil {
		t.Fatal(err)
	}
	p.signal(t, syscall.SIGUSR1)
	// The reopen is done when a new session's line lands in a new file.
	deadline := time.Now().Add(20 * time.Second)
	for {
		tcpName(t, lb)
		if b, _ := os.ReadFile(log); len(b) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no new %s after USR1", log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
