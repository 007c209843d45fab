package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// pebble is a Pebble ACME server (Debian's package) on loopback, with
// pebble-challtestsrv as its DNS server answering 127.0.0.1 for every
// name, so that it validates challenges against bunsan.
type pebble struct {
	dir  string // the ACME directory URL
	mgmt string // the management API (roots)
	ca   *testCA
}

func startPebble(t *testing.T, dir string, httpPort, tlsPort string) *pebble {
	t.Helper()
	for _, bin := range []string{"pebble", "pebble-challtestsrv"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s is not installed (apt-get install pebble; scripts/test.sh does)", bin)
		}
	}
	ca := newCA(t, dir, "pebble-api")
	cert, key := ca.issue(t, leaf{base: "pebble-api", names: []string{"127.0.0.1"}})
	api, mgmt, dns, chmgmt := freePort(t), freePort(t), freePort(t), freePort(t)
	conf, _ := json.Marshal(map[string]any{"pebble": map[string]any{
		"listenAddress": api, "managementListenAddress": mgmt, "certificate": cert, "privateKey": key,
		"httpPort": port(httpPort), "tlsPort": port(tlsPort), "ocspResponderURL": "", "externalAccountBindingRequired": false,
	}})
	confFile := filepath.Join(dir, "pebble.json")
	writeFile(t, confFile, conf, 0o644)
	run := func(name string, env []string, args ...string) {
		cmd := exec.Command(name, args...)
		cmd.Env = append(os.Environ(), env...)
		out := &syncBuffer{}
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		t.Cleanup(func() {
			cmd.Process.Kill()
			<-done
			if t.Failed() {
				t.Logf("%s output:\n%s", name, out)
			}
		})
	}
	run("pebble-challtestsrv", nil, "-dns01", dns, "-http01", "", "-https01", "", "-tlsalpn01", "",
		"-management", chmgmt, "-defaultIPv4", "127.0.0.1", "-defaultIPv6", "")
	run("pebble", []string{"PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0"}, "-config", confFile, "-dnsserver", dns)
	p := &pebble{dir: "https://" + api + "/dir", mgmt: "https://" + mgmt, ca: ca}
	// Ready when the directory answers; bounded in tries and time.
	client := httpsClient(&tls.Config{RootCAs: ca.pool()})
	deadline := time.Now().Add(20 * time.Second)
	for i := 0; ; i++ {
		resp, err := client.Get(p.dir)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		if i > 2000 || time.Now().After(deadline) {
			t.Fatalf("pebble did not start: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func port(addr string) int {
	var p int
	fmt.Sscanf(addr[strings.LastIndex(addr, ":")+1:], "%d", &p)
	return p
}

// root fetches the root Pebble issues under (it makes a new one per run).
func (p *pebble) root(t *testing.T) *x509.CertPool {
	t.Helper()
	resp, err := httpsClient(&tls.Config{RootCAs: p.ca.pool()}).Get(p.mgmt + "/roots/0")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		t.Fatalf("no root from pebble: %s", b)
	}
	return pool
}

// TestACMEPebble obtains a certificate from Pebble with the acme module's
// syntax (TLS-ALPN-01 on bunsan's TLS port), serves it, and after a
// restart serves the same certificate from state_path without ordering.
func TestACMEPebble(t *testing.T) {
	dir := t.TempDir()
	lb, plain := freePort(t), freePort(t)
	pb := startPebble(t, dir, plain, lb)
	conf := fmt.Sprintf(`
http {
    acme_issuer pebble {
        uri %s;
        contact admin@acme.test;
        state_path acme-state;
        accept_terms_of_service;
        ssl_trusted_certificate %s;
    }
    acme_shared_zone zone=ngx_acme_shared:1M;
    server {
        listen %s ssl;
        server_name acme.test;
        acme_certificate pebble;
        ssl_certificate $acme_certificate;
        ssl_certificate_key $acme_certificate_key;
        return 200 "acme";
    }
}`, pb.dir, pb.ca.file, lb)
	p := start(t, dir, conf)
	roots := pb.root(t)
	cfg := &tls.Config{ServerName: "acme.test", RootCAs: roots}
	// Issuance runs in the background; handshakes fail until it is done.
	deadline := time.Now().Add(60 * time.Second)
	var serial string
	for i := 0; serial == "" && i < 6000; i++ {
		if time.Now().After(deadline) {
			t.Fatalf("no ACME certificate in time:\n%s", p.stderrString())
		}
		cs, err := handshake(lb, cfg)
		if err == nil {
			serial = cs.PeerCertificates[0].SerialNumber.String()
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code, body := get(t, httpsClient(cfg), "https://"+lb+"/"); code != 200 || body != "acme" {
		t.Errorf("over the ACME certificate: %d %q", code, body)
	}
	for _, f := range []string{"account.key", "acme.test.crt", "acme.test.key"} {
		if st, err := os.Stat(filepath.Join(dir, "acme-state", f)); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("state file %s: %v %v, want mode 0600", f, err, st)
		}
	}
	// A restart serves the saved certificate at once.
	p.signal(t, syscall.SIGTERM)
	p.wait(t)
	os.Remove(filepath.Join(dir, "logs", "bunsan.pid"))
	start(t, dir, conf)
	cs, err := handshake(lb, cfg)
	if err != nil {
		t.Fatalf("after restart: %v", err)
	}
	if got := cs.PeerCertificates[0].SerialNumber.String(); got != serial {
		t.Errorf("after restart: serial %s, want the saved %s (no new order)", got, serial)
	}
}
