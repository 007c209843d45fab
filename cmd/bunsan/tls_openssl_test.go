package main

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
)

// TestTLSWithOpenSSL checks the default TLS settings with an outside
// client, openssl s_client: TLS 1.0 and 1.1 are refused with a protocol
// version alert (even when the client allows them), TLS 1.2 and 1.3 are
// served, a TLS 1.2 CBC-SHA256 or RSA-key-exchange suite is refused, and
// ALPN offers h2 on an http2 listener.
func TestTLSWithOpenSSL(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl is not installed")
	}
	dir := t.TempDir()
	ca := newCA(t, dir, "ossl")
	cert, key := ca.issue(t, leaf{base: "o", names: []string{"o.test"}})
	rsaCert, rsaKey := ca.issue(t, leaf{base: "orsa", rsa: true, names: []string{"o.test"}})
	lb := freePort(t)
	start(t, dir, fmt.Sprintf(`
http {
    server {
        listen %s ssl http2;
        ssl_certificate %s; ssl_certificate_key %s;
        ssl_certificate %s; ssl_certificate_key %s;
        return 200 ok;
    }
}`, lb, cert, key, rsaCert, rsaKey))
	tests := []struct {
		name string
		args []string
		ok   bool
		want string
	}{
		{"TLS 1.0 refused", []string{"-tls1", "-cipher", "DEFAULT@SECLEVEL=0"}, false, "alert protocol version"},
		{"TLS 1.1 refused", []string{"-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"}, false, "alert protocol version"},
		{"TLS 1.2", []string{"-tls1_2"}, true, "Protocol  : TLSv1.2"},
		{"TLS 1.3", []string{"-tls1_3"}, true, "Protocol  : TLSv1.3"},
		{"RSA key exchange refused", []string{"-tls1_2", "-cipher", "AES128-GCM-SHA256"}, false, "alert handshake failure"},
		{"CBC-SHA256 refused", []string{"-tls1_2", "-cipher", "ECDHE-RSA-AES128-SHA256"}, false, "alert handshake failure"},
		{"ECDSA and RSA both served", []string{"-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256"}, true, "Cipher    : ECDHE-RSA-AES128-GCM-SHA256"},
		{"ALPN h2", []string{"-alpn", "h2,http/1.1"}, true, "ALPN protocol: h2"},
	}
	for _, tt := range tests {
		args := append([]string{"s_client", "-connect", lb, "-servername", "o.test", "-CAfile", ca.file, "-verify_return_error"}, tt.args...)
		cmd := exec.Command("openssl", args...)
		cmd.Stdin = strings.NewReader("")
		out, err := cmd.CombinedOutput()
		if (err == nil) != tt.ok || !strings.Contains(string(out), tt.want) {
			t.Errorf("%s: openssl %v: %v, want success %v and %q in:\n%s", tt.name, tt.args, err, tt.ok, tt.want, out)
		}
	}
}
