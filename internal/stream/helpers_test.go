package stream

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"bunsan/internal/config"
	"bunsan/internal/upstream"
)

// testTimeout bounds every wait in these tests.
const testTimeout = 10 * time.Second

// loadStream loads a configuration text (a whole file) and returns its
// stream block; {{dir}} in the text is replaced by a temporary directory.
func loadStream(t testing.TB, text string) (*config.Stream, string) {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "bunsan.conf")
	text = strings.ReplaceAll(text, "{{dir}}", dir)
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	m, _, err := config.Load(config.Options{Prefix: dir + "/", File: file})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return m.Stream, dir
}

// rig is a Proxy serving a configuration on real loopback sockets.
type rig struct {
	p     *Proxy
	addrs map[string]string // listen key → the address really bound
	dir   string
	lns   []io.Closer
}

// startRig builds and serves text. Each listen gets its own 127.0.0.1:0
// socket, served under the listen's key, so tests never race for ports.
func startRig(t testing.TB, text string) *rig {
	t.Helper()
	return startRigWith(t, text, func(*Proxy) {})
}

// startRigWith is startRig with a hook that adjusts the Proxy before it
// serves (fake clocks).
func startRigWith(t testing.TB, text string, adjust func(*Proxy)) *rig {
	t.Helper()
	st, dir := loadStream(t, text)
	r := &rig{p: New(slog.New(slog.NewTextHandler(io.Discard, nil)), upstream.NewStore(nil)), addrs: map[string]string{}, dir: dir}
	adjust(r.p)
	snap, err := r.p.Build(st)
	if err != nil {
		t.Fatal(err)
	}
	r.p.Swap(snap)
	for _, l := range snap.Listens() {
		if l.Network == "tcp" {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			r.addrs[l.Key] = ln.Addr().String()
			r.lns = append(r.lns, ln)
			go r.p.ServeTCP(ln, l.Key)
		} else {
			pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				t.Fatal(err)
			}
			r.addrs[l.Key] = pc.LocalAddr().String()
			r.lns = append(r.lns, pc)
			go r.p.ServeUDP(pc, l.Key)
		}
	}
	t.Cleanup(func() {
		for _, l := range r.lns {
			l.Close()
		}
		r.p.Close()
		r.p.wg.Wait()
	})
	return r
}

// reload builds text and swaps it in, keeping the sockets (the listen
// keys must stay the same).
func (r *rig) reload(t *testing.T, text string) {
	t.Helper()
	st, _ := loadStream(t, text)
	snap, err := r.p.Build(st)
	if err != nil {
		t.Fatal(err)
	}
	r.p.Swap(snap)
}

// dial connects to the socket of a listen key ("tcp 127.0.0.1:1").
func (r *rig) dial(t *testing.T, key string) *net.TCPConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", r.addrs[key], testTimeout)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(testTimeout))
	t.Cleanup(func() { c.Close() })
	return c.(*net.TCPConn)
}

// nameBackend is a TCP server that writes "NAME\n" to every connection,
// then echoes what it reads until EOF, then writes "bye NAME\n" and
// closes. It records each connection's first line when first is set.
type nameBackend struct {
	name  string
	addr  string
	ln    net.Listener
	conns chan net.Conn // every accepted connection, for tests that watch them
}

func startBackend(t testing.TB, name string) *nameBackend {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &nameBackend{name: name, addr: ln.Addr().String(), ln: ln, conns: make(chan net.Conn, 100)}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			select {
			case b.conns <- c:
			default:
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(testTimeout))
				fmt.Fprintf(c, "%s\n", name)
				io.Copy(c, c)
				fmt.Fprintf(c, "bye %s\n", name)
			}()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return b
}

// rawBackend accepts connections and hands them to the test untouched.
func rawBackend(t *testing.T) (string, chan net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan net.Conn, 16)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.SetDeadline(time.Now().Add(testTimeout))
			ch <- c
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		for {
			select {
			case c := <-ch:
				c.Close()
			default:
				return
			}
		}
	})
	return ln.Addr().String(), ch
}

func accept(t *testing.T, ch chan net.Conn) net.Conn {
	t.Helper()
	select {
	case c := <-ch:
		return c
	case <-time.After(testTimeout):
		t.Fatal("backend got no connection")
	}
	return nil
}

// refusing returns a loopback address where nothing listens.
func refusing(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := ln.Addr().String()
	ln.Close()
	return a
}

// firstLine reads one line from c.
func firstLine(t *testing.T, c net.Conn) string {
	t.Helper()
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatalf("read: %v (got %q)", err, line)
	}
	return strings.TrimSuffix(line, "\n")
}

// readName connects through the proxy and returns the backend's name,
// or "" when the proxy closed the connection without one.
func readName(t *testing.T, r *rig, key string) string {
	t.Helper()
	c := r.dial(t, key)
	defer c.Close()
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		if errors.Is(err, io.EOF) || isReset(err) {
			return ""
		}
		t.Fatalf("read: %v", err)
	}
	return strings.TrimSuffix(line, "\n")
}

func isReset(err error) bool {
	return err != nil && strings.Contains(err.Error(), "connection reset")
}

// waitFile polls a log file until it holds n lines (the log is written
// after the connection closes, so there is nothing to wait on but it).
func waitFile(t *testing.T, path string, n int) []string {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for {
		b, _ := os.ReadFile(path)
		lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
		if len(b) > 0 && len(lines) >= n {
			return lines
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s has %q, want %d lines", path, b, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// selfSigned writes a certificate and key for names into dir and returns
// their paths and the parsed pair.
func selfSigned(t *testing.T, dir, base string, names ...string) (string, string, tls.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: names[0]},
		DNSNames:     names,
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})
	cp, kp := filepath.Join(dir, base+".crt"), filepath.Join(dir, base+".key")
	os.WriteFile(cp, certPEM, 0o644)
	os.WriteFile(kp, keyPEM, 0o600)
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return cp, kp, pair
}

// tlsBackend is a TLS server that writes "NAME\n" after the handshake.
func tlsBackend(t *testing.T, name string) string {
	t.Helper()
	addr, _ := tlsBackendCert(t, name)
	return addr
}

// tlsBackendCert is tlsBackend, also returning its certificate's file
// (to trust it).
func tlsBackendCert(t *testing.T, name string) (string, string) {
	t.Helper()
	certFile, _, pair := selfSigned(t, t.TempDir(), name, name)
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
				c.SetDeadline(time.Now().Add(testTimeout))
				fmt.Fprintf(c, "%s\n", name)
				io.Copy(io.Discard, c)
			}()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return ln.Addr().String(), certFile
}

// udpEcho answers each datagram with "NAME:" and the datagram.
func udpEcho(t *testing.T, name string) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			pc.WriteTo(append([]byte(name+":"), buf[:n]...), from)
		}
	}()
	t.Cleanup(func() { pc.Close() })
	return pc.LocalAddr().String()
}
