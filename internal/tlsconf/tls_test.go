package tlsconf

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// selfSigned writes a self-signed ECDSA certificate and PKCS#8 key for
// name into dir.
func selfSigned(t *testing.T, dir, name string) (certFile, keyFile string, cert *x509.Certificate) {
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
	cert, _ = x509.ParseCertificate(der)
	kb, _ := x509.MarshalPKCS8PrivateKey(k)
	certFile, keyFile = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+".key")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600)
	return certFile, keyFile, cert
}

func TestLoadPairEncrypted(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, _ := selfSigned(t, dir, "k.test")
	plain, _ := os.ReadFile(keyFile)
	blk, _ := pem.Decode(plain)
	legacy, err := x509.EncryptPEMBlock(rand.Reader, blk.Type, blk.Bytes, []byte("pw2"), x509.PEMCipherAES128) //nolint:staticcheck // testing the legacy form
	if err != nil {
		t.Fatal(err)
	}
	legacyFile := filepath.Join(dir, "legacy.key")
	os.WriteFile(legacyFile, pem.EncodeToMemory(legacy), 0o600)
	files := map[string]string{"plain": keyFile, "legacy": legacyFile}
	// OpenSSL 3's default, PKCS#8 with PBES2, when the openssl tool is here.
	if _, err := exec.LookPath("openssl"); err == nil {
		p8 := filepath.Join(dir, "p8.key")
		out, err := exec.Command("openssl", "pkcs8", "-topk8", "-v2", "aes-256-cbc", "-v2prf", "hmacWithSHA256",
			"-in", keyFile, "-out", p8, "-passout", "pass:pw2").CombinedOutput()
		if err != nil {
			t.Fatalf("openssl pkcs8: %v %s", err, out)
		}
		files["pkcs8"] = p8
	} else {
		t.Log("openssl not installed: the PKCS#8 case is not run")
	}
	tests := []struct {
		key       string
		passwords []string
		err       string
	}{
		{key: "plain"},
		{key: "legacy", passwords: []string{"wrong", "pw2"}},
		{key: "legacy", err: "name its passphrase with ssl_password_file"},
		{key: "legacy", passwords: []string{"wrong"}, err: "cannot decrypt"},
		{key: "pkcs8", passwords: []string{"pw1", "pw2"}},
		{key: "pkcs8", passwords: []string{"pw1"}, err: "cannot decrypt"},
	}
	for _, tt := range tests {
		f, ok := files[tt.key]
		if !ok {
			continue
		}
		_, err := LoadPair(certFile, f, tt.passwords)
		if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("%s %v: %v, want %q", tt.key, tt.passwords, err, tt.err)
		}
	}
}

func TestReadPasswords(t *testing.T) {
	f := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(f, []byte("one\r\n\ntwo words\n"), 0o600)
	got, err := ReadPasswords(f)
	if err != nil || strings.Join(got, "|") != "one|two words" {
		t.Errorf("%q %v", got, err)
	}
}

// TestSessionTimeout resumes a session within ssl_session_timeout and
// not after, on a clock the test moves.
func TestSessionTimeout(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, cert := selfSigned(t, dir, "s.test")
	pair, err := LoadPair(certFile, keyFile, nil)
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Now()
	srv := &tls.Config{Certificates: []tls.Certificate{pair}}
	limitSessionAge(srv, 5*time.Minute, func() time.Time { return clock })
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	cli := &tls.Config{ServerName: "s.test", RootCAs: roots, ClientSessionCache: tls.NewLRUClientSessionCache(4)}
	tests := []struct {
		advance time.Duration
		resume  bool
	}{
		{0, false}, // first contact
		{time.Minute, true},
		{6 * time.Minute, false}, // the newest ticket is older than 5m
	}
	for i, tt := range tests {
		clock = clock.Add(tt.advance)
		if got := pipeHandshake(t, srv, cli); got != tt.resume {
			t.Errorf("step %d: resumed %v, want %v", i, got, tt.resume)
		}
	}
}

// pipeHandshake runs one TLS connection over an in-memory pipe, with a
// byte each way so that TLS 1.3 tickets reach the client, and says
// whether the session was resumed.
func pipeHandshake(t *testing.T, srv, cli *tls.Config) bool {
	t.Helper()
	a, b := net.Pipe()
	defer a.Close()
	done := make(chan error, 1)
	go func() {
		s := tls.Server(b, srv)
		defer s.Close()
		var buf [1]byte
		if _, err := io.ReadFull(s, buf[:]); err != nil {
			done <- err
			return
		}
		_, err := s.Write(buf[:])
		done <- err
	}()
	c := tls.Client(a, cli)
	if _, err := c.Write([]byte{1}); err != nil {
		t.Fatal(err)
	}
	var buf [1]byte
	if _, err := io.ReadFull(c, buf[:]); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	return c.ConnectionState().DidResume
}
