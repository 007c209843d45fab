package stream

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"slices"
	"testing"
	"time"
)

func TestSSLPrereadRoutesBySNI(t *testing.T) {
	a, b, plain := tlsBackend(t, "a.test"), tlsBackend(t, "b.test"), startBackend(t, "plain")
	r := startRig(t, fmt.Sprintf(`stream {
    upstream bees { server %s; }
    map $ssl_preread_server_name $be {
        hostnames;
        a.test     %s;
        *.b.test   bees;
        default    %s;
    }
    log_format f '$ssl_preread_server_name|$ssl_preread_protocol|$ssl_preread_alpn_protocols|$upstream_addr';
    server { listen 127.0.0.1:1; ssl_preread on; proxy_pass $be; access_log {{dir}}/s.log f; }
}`, b, a, plain.addr))
	tests := []struct {
		sni, want string
	}{
		{"a.test", "a.test"},
		{"A.TEST", "a.test"},
		{"x.b.test", "b.test"},
	}
	for _, tt := range tests {
		c := r.dial(t, key1)
		tc := tls.Client(c, &tls.Config{ServerName: tt.sni, InsecureSkipVerify: true, NextProtos: []string{"h2"}})
		tc.SetDeadline(time.Now().Add(testTimeout))
		if got := firstLine(t, tc); got != tt.want {
			t.Errorf("SNI %q reached %q, want %q", tt.sni, got, tt.want)
		}
		if cn := tc.ConnectionState().PeerCertificates[0].Subject.CommonName; cn != tt.want {
			t.Errorf("SNI %q: certificate of %q: TLS was not passed through", tt.sni, cn)
		}
		tc.Close()
	}
	// Not TLS at all: the variables are empty and the default applies.
	// (Preread waits for the client's first bytes, as nginx does.)
	c := r.dial(t, key1)
	io.WriteString(c, "hello\n")
	if got := firstLine(t, c); got != "plain" {
		t.Errorf("plain TCP reached %q", got)
	}
	c.Close()
	lines := waitFile(t, r.dir+"/s.log", 4)
	if want := "a.test|TLSv1.3|h2|" + a; !slices.Contains(lines, want) {
		t.Errorf("log %q, want a line %q", lines, want)
	}
	if want := "|||" + plain.addr; !slices.Contains(lines, want) {
		t.Errorf("log %q, want a line %q for the plain client", lines, want)
	}
}

func TestTerminateTLS(t *testing.T) {
	plain := startBackend(t, "plain")
	dir := t.TempDir()
	cert, key, _ := selfSigned(t, dir, "s", "svc.test")
	r := startRig(t, fmt.Sprintf(`stream {
    server {
        listen 127.0.0.1:1 ssl;
        ssl_certificate %s;
        ssl_certificate_key %s;
        proxy_pass %s;
    }
}`, cert, key, plain.addr))
	c := r.dial(t, key1)
	tc := tls.Client(c, &tls.Config{ServerName: "svc.test", InsecureSkipVerify: true})
	tc.SetDeadline(time.Now().Add(testTimeout))
	if got := firstLine(t, tc); got != "plain" {
		t.Fatalf("got %q", got)
	}
	if cn := tc.ConnectionState().PeerCertificates[0].Subject.CommonName; cn != "svc.test" {
		t.Errorf("certificate %q", cn)
	}
	io.WriteString(tc, "echo\n")
	if got := firstLine(t, tc); got != "echo" {
		t.Errorf("echo: %q", got)
	}
	// A client that does not speak TLS is dropped.
	raw := r.dial(t, key1)
	io.WriteString(raw, "GET / HTTP/1.0\r\n\r\n")
	if b, _ := io.ReadAll(raw); len(b) > 0 && b[0] != 0x15 { // at most a TLS alert
		t.Errorf("plain client read %q", b)
	}
	_ = net.Conn(raw)
}

func TestProxySSL(t *testing.T) {
	addr, cert := tlsBackendCert(t, "backend.test")
	_, other := tlsBackendCert(t, "other.test")
	r := startRig(t, fmt.Sprintf(`stream {
    upstream secure { server %[1]s; }
    server {
        listen 127.0.0.1:1;
        proxy_pass secure;
        proxy_ssl on;
        proxy_ssl_verify on;
        proxy_ssl_trusted_certificate %[2]s;
        proxy_ssl_name backend.test;
        proxy_ssl_server_name on;
    }
    server {
        listen 127.0.0.1:2;
        proxy_pass %[1]s;
        proxy_ssl on;
        proxy_ssl_verify on;
        proxy_ssl_trusted_certificate %[3]s;
        proxy_ssl_name backend.test;
    }
}`, addr, cert, other))
	// The client speaks plain TCP; bunsan speaks TLS to the backend.
	if got := readName(t, r, key1); got != "backend.test" {
		t.Errorf("through proxy_ssl: %q", got)
	}
	// A backend whose certificate is not trusted is refused.
	if got := readName(t, r, "tcp 127.0.0.1:2"); got != "" {
		t.Errorf("untrusted backend reached: %q", got)
	}
}
