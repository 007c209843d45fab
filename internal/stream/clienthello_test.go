package stream

import (
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"net"
	"reflect"
	"testing"
	"time"
)

// helloBytes captures the ClientHello that Go's TLS client sends.
func helloBytes(t testing.TB, cfg *tls.Config) []byte {
	t.Helper()
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	go tls.Client(a, cfg).Handshake()
	b.SetReadDeadline(time.Now().Add(10 * time.Second))
	var buf []byte
	tmp := make([]byte, 4096)
	for {
		n, err := b.Read(tmp)
		if err != nil {
			t.Fatalf("reading the hello: %v", err)
		}
		buf = append(buf, tmp[:n]...)
		if _, err := parseClientHello(buf); err != errIncomplete {
			return buf
		}
	}
}

// refragment splits the single record of a hello into records of at most
// size bytes each, as a client may.
func refragment(rec []byte, size int) []byte {
	payload := rec[5 : 5+int(binary.BigEndian.Uint16(rec[3:5]))]
	var out []byte
	for len(payload) > 0 {
		n := min(size, len(payload))
		out = append(out, 0x16, 3, 1, byte(n>>8), byte(n))
		out = append(out, payload[:n]...)
		payload = payload[n:]
	}
	return out
}

func TestParseClientHello(t *testing.T) {
	h12 := helloBytes(t, &tls.Config{ServerName: "Example.COM", NextProtos: []string{"h2", "http/1.1"}, MaxVersion: tls.VersionTLS12, InsecureSkipVerify: true})
	h13 := helloBytes(t, &tls.Config{ServerName: "a.test", InsecureSkipVerify: true})
	noSNI := helloBytes(t, &tls.Config{InsecureSkipVerify: true})
	tests := []struct {
		name string
		in   []byte
		want clientHello
		err  error
	}{
		{"tls1.2 with alpn", h12, clientHello{ServerName: "example.com", ALPN: []string{"h2", "http/1.1"}, Version: 0x0303}, nil},
		{"tls1.3", h13, clientHello{ServerName: "a.test", Version: 0x0304}, nil},
		{"no sni", noSNI, clientHello{Version: 0x0304}, nil},
		{"split over records", refragment(h13, 50), clientHello{ServerName: "a.test", Version: 0x0304}, nil},
		{"partial", h13[:40], clientHello{}, errIncomplete},
		{"http", []byte("GET / HTTP/1.1\r\n\r\n"), clientHello{}, errNotTLS},
		{"alert record", []byte{0x15, 3, 3, 0, 2, 2, 40}, clientHello{}, errNotTLS},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseClientHello(tt.in)
			if err != tt.err || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v %v, want %+v %v", got, err, tt.want, tt.err)
			}
		})
	}
	if versionName(0x0304) != "TLSv1.3" || versionName(0x0303) != "TLSv1.2" {
		t.Error("versionName")
	}
}

// FuzzParseClientHello: never panics; an accepted hello is accepted the
// same with bytes after it, and each proper prefix is "incomplete".
//
// The seeds are built by hand (buildHello): a seed made by a live TLS
// handshake stalls the fuzzing workers.
func FuzzParseClientHello(f *testing.F) {
	f.Add(buildHello("example.com", []string{"h2", "http/1.1"}, 0x0304))
	f.Add(buildHello("", nil, 0))
	f.Add([]byte{0x16, 3, 1, 0, 4, 1, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := parseClientHello(b)
		if err != nil {
			return
		}
		h2, err2 := parseClientHello(append(bytes.Clone(b), 0x17, 3, 3))
		if err2 != nil || !reflect.DeepEqual(h, h2) {
			t.Fatalf("with a tail: %+v %v; alone %+v", h2, err2, h)
		}
	})
}

// buildHello makes a minimal ClientHello record: SNI, ALPN and
// supported_versions extensions when given.
func buildHello(sni string, alpn []string, version uint16) []byte {
	u16 := func(b []byte, v int) []byte { return append(b, byte(v>>8), byte(v)) }
	var ext []byte
	if sni != "" {
		ext = u16(ext, 0)
		ext = u16(ext, len(sni)+5)
		ext = u16(ext, len(sni)+3)
		ext = append(ext, 0)
		ext = u16(ext, len(sni))
		ext = append(ext, sni...)
	}
	if len(alpn) > 0 {
		var list []byte
		for _, p := range alpn {
			list = append(append(list, byte(len(p))), p...)
		}
		ext = u16(ext, 16)
		ext = u16(ext, len(list)+2)
		ext = u16(ext, len(list))
		ext = append(ext, list...)
	}
	if version != 0 {
		ext = u16(ext, 43)
		ext = u16(ext, 3)
		ext = append(ext, 2, byte(version>>8), byte(version))
	}
	body := []byte{3, 3}
	body = append(body, make([]byte, 32)...) // random
	body = append(body, 0)                   // session id
	body = u16(body, 2)
	body = u16(body, 0x1301)  // one cipher suite
	body = append(body, 1, 0) // null compression
	body = u16(body, len(ext))
	body = append(body, ext...)
	hs := append([]byte{1, 0, byte(len(body) >> 8), byte(len(body))}, body...)
	rec := []byte{0x16, 3, 1, byte(len(hs) >> 8), byte(len(hs))}
	return append(rec, hs...)
}

func TestBuildHello(t *testing.T) {
	h, err := parseClientHello(buildHello("x.test", []string{"h2"}, 0x0304))
	if err != nil || h.ServerName != "x.test" || h.Version != 0x0304 || len(h.ALPN) != 1 {
		t.Errorf("%+v %v", h, err)
	}
}
