// Package nginxtest runs a real nginx and real HTTP backends for tests
// that compare bunsan with nginx: the same configuration through both,
// the same answers expected.
//
// nginx runs in the foreground ("daemon off") from a temporary prefix
// with its pid file, temp paths and logs inside it, one worker process,
// and is stopped when the test ends. When no nginx binary is found the
// test is skipped, unless the environment says CI=true, where it fails:
// CI installs nginx (Debian: apt-get install nginx-core
// libnginx-mod-stream).
package nginxtest

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// DefaultBinary is where Debian installs nginx.
const DefaultBinary = "/usr/sbin/nginx"

// StreamModule is where Debian installs the dynamic stream module.
const StreamModule = "/usr/lib/nginx/modules/ngx_stream_module.so"

// Binary returns the nginx binary to run: $NGINX_BIN, /usr/sbin/nginx or
// nginx on $PATH. Without one it skips the test, or fails it when CI=true.
func Binary(t testing.TB) string {
	t.Helper()
	if b := os.Getenv("NGINX_BIN"); b != "" {
		return b
	}
	if _, err := os.Stat(DefaultBinary); err == nil {
		return DefaultBinary
	}
	if b, err := exec.LookPath("nginx"); err == nil {
		return b
	}
	missing(t, "nginx is not installed (apt-get install nginx-core libnginx-mod-stream, or set NGINX_BIN)")
	return ""
}

func missing(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// Version returns the output of "nginx -v", e.g. "nginx/1.22.1".
func Version(t testing.TB) string {
	t.Helper()
	out, err := exec.Command(Binary(t), "-v").CombinedOutput()
	if err != nil {
		t.Fatalf("nginx -v: %v: %s", err, out)
	}
	s := strings.TrimSpace(string(out))
	return strings.TrimPrefix(s, "nginx version: ")
}

// Config is what to run. The helper writes the main context (daemon off,
// one worker, pid and error log, "user root" when run as root so the
// worker can use the prefix), the events block, and wraps HTTP and
// Stream in their blocks with temp paths inside the prefix and the
// access log off.
type Config struct {
	Main   string // extra directives in the main context
	HTTP   string // the inside of http { }; empty means no http block
	Stream string // the inside of stream { }; loads the stream module
	// Wait lists host:port addresses nginx listens on; Start returns once
	// each accepts connections.
	Wait []string
}

// Server is a running nginx.
type Server struct {
	Prefix string
	cmd    *exec.Cmd
	stderr *syncBuffer
	done   chan struct{}
	once   sync.Once
}

// Start writes the configuration into a temporary prefix, starts nginx
// on it and waits until it accepts connections on c.Wait. It stops nginx
// when the test ends and logs nginx's error output if the test failed.
func Start(t testing.TB, c Config) *Server {
	t.Helper()
	bin := Binary(t)
	prefix := t.TempDir()
	// The prefix must be reachable by the worker, which may run as
	// another user: open the path up (t.TempDir makes it 0700).
	for _, d := range []string{prefix, filepath.Dir(prefix)} {
		_ = os.Chmod(d, 0o755)
	}
	for _, d := range []string{"conf", "logs", "tmp"} {
		if err := os.MkdirAll(filepath.Join(prefix, d), 0o777); err != nil {
			t.Fatal(err)
		}
	}
	conf := render(prefix, c)
	confPath := filepath.Join(prefix, "conf", "nginx.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	if c.Stream != "" {
		if _, err := os.Stat(StreamModule); err != nil {
			missing(t, "the nginx stream module is not installed (apt-get install libnginx-mod-stream)")
		}
	}

	s := &Server{Prefix: prefix, stderr: &syncBuffer{}, done: make(chan struct{})}
	s.cmd = exec.Command(bin, "-p", prefix+"/", "-c", confPath, "-e", "stderr")
	s.cmd.Stdout = s.stderr
	s.cmd.Stderr = s.stderr
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start nginx: %v", err)
	}
	go func() { _ = s.cmd.Wait(); close(s.done) }()
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			t.Logf("nginx configuration:\n%s\nnginx output:\n%s", conf, s.Stderr())
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for _, addr := range c.Wait {
		for {
			conn, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
			if err == nil {
				conn.Close()
				break
			}
			select {
			case <-s.done:
				t.Fatalf("nginx exited before listening on %s:\n%s", addr, s.Stderr())
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("nginx does not accept on %s after 10s:\n%s", addr, s.Stderr())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return s
}

func render(prefix string, c Config) string {
	var b strings.Builder
	if c.Stream != "" {
		fmt.Fprintf(&b, "load_module %s;\n", StreamModule)
	}
	b.WriteString("daemon off;\nmaster_process on;\nworker_processes 1;\n")
	if os.Geteuid() == 0 {
		// As root the master would start the worker as "nobody", which
		// cannot use a prefix under a private temp directory.
		b.WriteString("user root;\n")
	}
	fmt.Fprintf(&b, "pid %s/nginx.pid;\nerror_log stderr notice;\n", prefix)
	b.WriteString(c.Main)
	b.WriteString("\nevents { worker_connections 512; }\n")
	if c.HTTP != "" {
		b.WriteString("http {\n    access_log off;\n")
		for _, tp := range []string{"client_body", "proxy", "fastcgi", "uwsgi", "scgi"} {
			fmt.Fprintf(&b, "    %s_temp_path %s/tmp/%s;\n", tp, prefix, tp)
		}
		b.WriteString(c.HTTP)
		b.WriteString("\n}\n")
	}
	if c.Stream != "" {
		b.WriteString("stream {\n")
		b.WriteString(c.Stream)
		b.WriteString("\n}\n")
	}
	return b.String()
}

// Stderr is what nginx has written so far.
func (s *Server) Stderr() string { return s.stderr.String() }

// Stop asks nginx to exit (SIGTERM to the master, which stops its
// workers) and waits for it; after 5 seconds it kills nginx's process
// group, which Start created for it.
func (s *Server) Stop() {
	s.once.Do(func() {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
			<-s.done
		}
	})
}

// FreeAddr returns a 127.0.0.1 address with a port free at the moment.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// Backend is a real HTTP server on 127.0.0.1 that answers every request
// with its own name as the body (and in the X-Backend header).
type Backend struct {
	Name string
	Addr string // 127.0.0.1:port
	srv  *http.Server
}

// StartBackends starts n backends named b0 … b(n-1), closed when the test
// ends.
func StartBackends(t testing.TB, n int) []*Backend {
	t.Helper()
	out := make([]*Backend, n)
	for i := range out {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		b := &Backend{Name: fmt.Sprintf("b%d", i), Addr: l.Addr().String()}
		name := b.Name
		b.srv = &http.Server{
			Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("X-Backend", name)
				w.Header().Set("Content-Type", "text/plain")
				_, _ = w.Write([]byte(name))
			}),
			ReadHeaderTimeout: 5 * time.Second,
		}
		go func() { _ = b.srv.Serve(l) }()
		t.Cleanup(func() { _ = b.srv.Close() })
		out[i] = b
	}
	return out
}

// Get fetches url with the given extra headers and returns the body,
// failing the test on a transport error or a status other than 200.
func Get(t testing.TB, c *http.Client, url string, header ...string) string {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	var body bytes.Buffer
	if _, err := body.ReadFrom(resp.Body); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s: %s", url, resp.Status, body.String())
	}
	return body.String()
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
