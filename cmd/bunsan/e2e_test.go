package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
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

var binary string

// TestMain builds the real binary once; the end-to-end tests run it as a
// user would.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "bunsan-e2e-")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "bunsan")
	out, err := exec.Command("go", "build", "-race", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// backend is a real HTTP server on loopback that names itself.
func backend(t *testing.T, name string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %s host=%s", name, r.URL.RequestURI(), r.Host)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// freePort finds a loopback port nothing listens on now.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

type proc struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
	pid    string
	done   chan struct{} // closed when the process has exited
	err    error         // its exit status, once done is closed
}

// start runs the binary on conf in dir and waits until its pid file
// exists, which bunsan writes once every listener is bound.
func start(t *testing.T, dir, conf string) *proc {
	t.Helper()
	return startEnv(t, dir, conf, nil)
}

// startEnv is start with extra environment variables (NAME=value).
func startEnv(t *testing.T, dir, conf string, env []string) *proc {
	t.Helper()
	file := filepath.Join(dir, "bunsan.conf")
	if err := os.WriteFile(file, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	p := &proc{stderr: &syncBuffer{}, pid: filepath.Join(dir, "logs", "bunsan.pid"), done: make(chan struct{})}
	p.cmd = exec.Command(binary, "-p", dir, "-c", file)
	p.cmd.Stderr = p.stderr
	if env != nil {
		p.cmd.Env = append(os.Environ(), env...)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := os.Stat(p.pid); err == nil {
			return p
		}
		select {
		case <-p.done:
			t.Fatalf("bunsan exited early: %v\n%s", p.err, p.stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("bunsan did not write its pid file in time\n%s", p.stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (p *proc) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
}

func (p *proc) wait(t *testing.T) {
	t.Helper()
	select {
	case <-p.done:
		if p.err != nil {
			t.Fatalf("bunsan exited with %v\n%s", p.err, p.stderr)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("bunsan did not exit\n%s", p.stderr)
	}
}

func get(t *testing.T, client *http.Client, url string) (int, string) {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestServeRoundRobin(t *testing.T) {
	a, b := backend(t, "a"), backend(t, "b")
	lb := freePort(t)
	dir := t.TempDir()
	p := start(t, dir, fmt.Sprintf(`
events { worker_connections 64; }
http {
    upstream app { server %s; server %s; }
    server {
        listen %s;
        location / { proxy_pass http://app; }
        location /rewrite/ { proxy_pass http://app/new/; }
        location = /health { return 200 "healthy"; }
    }
}`, a, b, lb))
	client := &http.Client{Timeout: 10 * time.Second}
	seen := map[string]int{}
	for i := 0; i < 10; i++ {
		code, body := get(t, client, "http://"+lb+"/x?y=1")
		if code != 200 {
			t.Fatalf("status %d: %s", code, body)
		}
		seen[strings.Fields(body)[0]]++
		if !strings.Contains(body, " /x?y=1 host=app") {
			t.Errorf("backend saw %q; want the URI unchanged and Host: app", body)
		}
	}
	if seen["a"] != 5 || seen["b"] != 5 {
		t.Errorf("round-robin over two equal servers gave %v, want 5 each", seen)
	}
	if _, body := get(t, client, "http://"+lb+"/rewrite/p?q"); !strings.Contains(body, " /new/p?q ") {
		t.Errorf("prefix replacement: backend saw %q, want /new/p?q", body)
	}
	if code, body := get(t, client, "http://"+lb+"/health"); code != 200 || body != "healthy" {
		t.Errorf("return: %d %q", code, body)
	}
	p.signal(t, syscall.SIGQUIT)
	p.wait(t)
	if _, err := os.Stat(p.pid); !os.IsNotExist(err) {
		t.Errorf("pid file still there after exit: %v", err)
	}
}

func TestFailoverToLiveServer(t *testing.T) {
	live := backend(t, "live")
	dead := freePort(t) // nothing listens: connections are refused
	lb := freePort(t)
	p := start(t, t.TempDir(), fmt.Sprintf(`
http {
    upstream app { server %s; server %s; }
    server { listen %s; location / { proxy_pass http://app; } }
}`, dead, live, lb))
	client := &http.Client{Timeout: 10 * time.Second}
	for i := 0; i < 6; i++ {
		if code, body := get(t, client, "http://"+lb+"/"); code != 200 || !strings.HasPrefix(body, "live") {
			t.Fatalf("request %d: %d %q, want the live server", i, code, body)
		}
	}
	p.signal(t, syscall.SIGTERM)
	p.wait(t)
}

func TestNoLiveUpstreams(t *testing.T) {
	lb := freePort(t)
	start(t, t.TempDir(), fmt.Sprintf(`
http {
    upstream app { server %s; }
    server { listen %s; location / { proxy_pass http://app; } }
}`, freePort(t), lb))
	code, body := get(t, &http.Client{Timeout: 10 * time.Second}, "http://"+lb+"/")
	if code != 502 || !strings.Contains(body, "502 Bad Gateway") {
		t.Errorf("got %d %q, want nginx's 502 page", code, body)
	}
}

func TestReload(t *testing.T) {
	a, b := backend(t, "a"), backend(t, "b")
	lb := freePort(t)
	dir := t.TempDir()
	conf := func(addr string) string {
		return fmt.Sprintf("http { upstream app { server %s; } server { listen %s; location / { proxy_pass http://app; } } }", addr, lb)
	}
	p := start(t, dir, conf(a))
	client := &http.Client{Timeout: 10 * time.Second}
	if _, body := get(t, client, "http://"+lb+"/"); !strings.HasPrefix(body, "a ") {
		t.Fatalf("before reload: %q", body)
	}
	file := filepath.Join(dir, "bunsan.conf")
	// A broken configuration keeps the old one serving.
	os.WriteFile(file, []byte("http { server { listen "+lb+"; location / { proxy_pass nope; } } }"), 0o644)
	p.signal(t, syscall.SIGHUP)
	waitFor(t, p, "reload failed")
	if _, body := get(t, client, "http://"+lb+"/"); !strings.HasPrefix(body, "a ") {
		t.Fatalf("after bad reload: %q, want the old configuration", body)
	}
	os.WriteFile(file, []byte(conf(b)), 0o644)
	p.signal(t, syscall.SIGHUP)
	// The reload is done when the new backend answers; until then every
	// request must still be answered by the old one.
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, body := get(t, client, "http://"+lb+"/")
		if strings.HasPrefix(body, "b ") {
			break
		}
		if !strings.HasPrefix(body, "a ") || time.Now().After(deadline) {
			t.Fatalf("during reload: %q, want a, then b", body)
		}
	}
	// -s reads the pid file and signals the running process.
	out, err := exec.Command(binary, "-p", dir, "-c", file, "-s", "quit").CombinedOutput()
	if err != nil {
		t.Fatalf("-s quit: %v %s", err, out)
	}
	p.wait(t)
}

// waitFor waits until the error log (stderr) shows text.
func waitFor(t *testing.T, p *proc, text string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(p.stderrString(), text) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in the log:\n%s", text, p.stderrString())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (p *proc) stderrString() string { return p.stderr.String() }

// syncBuffer is a bytes.Buffer that the process's output copier and the
// test may use at once.
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

// TestSeedConfigCorrected runs the seed's configuration, written
// correctly, with HTTPS terminated by bunsan and two real backends.
func TestSeedConfigCorrected(t *testing.T) {
	a, b := backend(t, "was1"), backend(t, "was2")
	lb := freePort(t)
	dir := t.TempDir()
	cert, key := selfSigned(t, dir, "api.moyeora.site")
	start(t, dir, fmt.Sprintf(`
http {
    upstream momo_server {
        server %s;
        server %s;
    }

    server {
        listen %s ssl;
        server_name api.moyeora.site;

        # HTTPS is terminated here
        ssl_certificate %s;
        ssl_certificate_key %s;

        location / {
            proxy_pass http://momo_server;
            proxy_buffer_size 128k;
            proxy_buffers 4 256k;
            proxy_busy_buffers_size 256k;
        }
    }
}`, a, b, lb, cert, key))
	pool := x509.NewCertPool()
	pem, _ := os.ReadFile(cert)
	pool.AppendCertsFromPEM(pem)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "api.moyeora.site"},
	}}
	seen := map[string]bool{}
	for i := 0; i < 4; i++ {
		code, body := get(t, client, "https://"+lb+"/api/moim")
		if code != 200 {
			t.Fatalf("status %d %q", code, body)
		}
		seen[strings.Fields(body)[0]] = true
	}
	if !seen["was1"] || !seen["was2"] {
		t.Errorf("both servers should answer, saw %v", seen)
	}
}

func selfSigned(t *testing.T, dir, name string) (string, string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(k)
	cert, key := filepath.Join(dir, "fullchain.pem"), filepath.Join(dir, "privkey.pem")
	os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	return cert, key
}

func TestCheckConfig(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.conf")
	os.WriteFile(good, []byte("http { include conf.d/*.conf; }\n"), 0o644)
	os.MkdirAll(filepath.Join(dir, "conf.d"), 0o755)
	os.WriteFile(filepath.Join(dir, "conf.d", "a.conf"), []byte("upstream u { server 127.0.0.1:1; }\n"), 0o644)

	out, err := exec.Command(binary, "-t", "-c", good).CombinedOutput()
	if err != nil {
		t.Fatalf("-t on a good config: %v\n%s", err, out)
	}
	want := fmt.Sprintf("bunsan: the configuration file %s syntax is ok\nbunsan: configuration file %s test is successful\n", good, good)
	if string(out) != want {
		t.Errorf("-t printed:\n%s\nwant:\n%s", out, want)
	}
	out, err = exec.Command(binary, "-T", "-q", "-c", good).Output()
	if err != nil {
		t.Fatal(err)
	}
	wantDump := fmt.Sprintf("# configuration file %s:\nhttp { include conf.d/*.conf; }\n\n# configuration file %s:\nupstream u { server 127.0.0.1:1; }\n\n",
		good, filepath.Join(dir, "conf.d", "a.conf"))
	if string(out) != wantDump {
		t.Errorf("-T printed:\n%s\nwant:\n%s", out, wantDump)
	}

	seed, _ := filepath.Abs("../../testdata/seed/nginx.conf")
	cmd := exec.Command(binary, "-t", "-c", seed)
	out, err = cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("-t on the seed config: %v, want exit status 1\n%s", err, out)
	}
	site := filepath.Join(filepath.Dir(seed), "sites-enabled", "momo.conf")
	for _, line := range []string{
		site + ":5:2: \"upstream\" directive is not allowed",
		site + ":6:23: missing \";\" after \"server 10.0.0.1:8080\"",
		site + ":10:2: \"//\" does not start a comment",
		site + ":11:18: cannot load certificate",
		site + ":15:14: invalid URL prefix in \"momo_server\"",
		"bunsan: configuration file " + seed + " test failed",
	} {
		if !strings.Contains(string(out), "\n"+line) && !strings.HasPrefix(string(out), line) {
			t.Errorf("-t output lacks a line starting %q:\n%s", line, out)
		}
	}
}

func TestOptions(t *testing.T) {
	tests := []struct {
		args []string
		want options
		err  string
	}{
		{args: []string{"-t", "-c", "x.conf"}, want: options{test: true, conf: "x.conf"}},
		{args: []string{"-tqcx.conf"}, want: options{test: true, quiet: true, conf: "x.conf"}},
		{args: []string{"-T"}, want: options{test: true, dump: true}},
		{args: []string{"-p", "/srv", "-g", "pid a.pid;", "-e", "stderr"}, want: options{prefix: "/srv/", prefixSet: true, directives: "pid a.pid;", errorLog: "stderr"}},
		{args: []string{"-s", "reload"}, want: options{signal: "reload"}},
		{args: []string{"-V"}, want: options{version: true, versionFull: true}},
		{args: []string{"-s", "restart"}, err: `invalid option: "-s restart": use stop, quit, reopen or reload`},
		{args: []string{"-c"}, err: `option "-c" requires file name`},
		{args: []string{"-x"}, err: `invalid option: "x"`},
		{args: []string{"file.conf"}, err: `invalid option: "file.conf"`},
	}
	for _, tt := range tests {
		got, err := parseOptions(tt.args)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("%q: error %v, want %q", tt.args, err, tt.err)
			}
			continue
		}
		if err != nil || *got != tt.want {
			t.Errorf("%q: %+v, %v; want %+v", tt.args, got, err, tt.want)
		}
	}
}

func TestVersion(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"-v"}, &out, &errb); code != 0 || !strings.HasPrefix(errb.String(), "bunsan version: bunsan/") {
		t.Errorf("-v: %d %q", code, errb.String())
	}
}
