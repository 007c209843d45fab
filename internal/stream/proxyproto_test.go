package stream

import (
	"bytes"
	"net/netip"
	"testing"
)

func TestParseProxy(t *testing.T) {
	ap := netip.MustParseAddrPort
	tests := []struct {
		name string
		in   string
		want proxyHeader
		n    int
		err  error
	}{
		{"v1 tcp4", "PROXY TCP4 192.0.2.1 198.51.100.2 5555 443\r\nrest", proxyHeader{Src: ap("192.0.2.1:5555"), Dst: ap("198.51.100.2:443")}, 44, nil},
		{"v1 tcp6", "PROXY TCP6 2001:db8::1 2001:db8::2 1 2\r\n", proxyHeader{Src: ap("[2001:db8::1]:1"), Dst: ap("[2001:db8::2]:2")}, 40, nil},
		{"v1 unknown", "PROXY UNKNOWN ff\r\n", proxyHeader{Local: true}, 18, nil},
		{"v1 partial", "PROXY TCP4 192.0", proxyHeader{}, 0, errIncomplete},
		{"v1 prefix only", "PRO", proxyHeader{}, 0, errIncomplete},
		{"not proxy", "GET / HTTP/1.1\r\n", proxyHeader{}, 0, errBadProxy},
		{"v1 family mismatch", "PROXY TCP4 2001:db8::1 2001:db8::2 1 2\r\n", proxyHeader{}, 0, errBadProxy},
		{"v1 bad port", "PROXY TCP4 1.2.3.4 5.6.7.8 65536 1\r\n", proxyHeader{}, 0, errBadProxy},
		{"v1 leading zero", "PROXY TCP4 1.2.3.4 5.6.7.8 01 1\r\n", proxyHeader{}, 0, errBadProxy},
		{"v1 bare LF", "PROXY TCP4 1.2.3.4 5.6.7.8 1 1\n", proxyHeader{}, 0, errBadProxy},
		{"v2 tcp4", string(appendProxyV2(nil, ap("10.1.2.3:1000"), ap("10.0.0.1:80"))) + "x", proxyHeader{Src: ap("10.1.2.3:1000"), Dst: ap("10.0.0.1:80")}, 28, nil},
		{"v2 tcp6", string(appendProxyV2(nil, ap("[::2]:1"), ap("[::3]:2"))), proxyHeader{Src: ap("[::2]:1"), Dst: ap("[::3]:2")}, 52, nil},
		{"v2 local", string(v2sig) + "\x20\x00\x00\x00", proxyHeader{Local: true}, 16, nil},
		{"v2 partial", string(v2sig) + "\x21\x11\x00\x0c\x01", proxyHeader{}, 0, errIncomplete},
		{"v2 bad version", string(v2sig) + "\x11\x11\x00\x00", proxyHeader{}, 0, errBadProxy},
		{"v2 short body", string(v2sig) + "\x21\x11\x00\x02ab", proxyHeader{}, 0, errBadProxy},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, n, err := parseProxy([]byte(tt.in))
			if err != tt.err || n != tt.n || h != tt.want {
				t.Errorf("got %+v %d %v, want %+v %d %v", h, n, err, tt.want, tt.n, tt.err)
			}
		})
	}
}

func TestAppendProxyV1(t *testing.T) {
	ap := netip.MustParseAddrPort
	tests := []struct {
		src, dst netip.AddrPort
		want     string
	}{
		{ap("127.0.0.1:40000"), ap("127.0.0.1:9000"), "PROXY TCP4 127.0.0.1 127.0.0.1 40000 9000\r\n"},
		{ap("[::ffff:10.0.0.1]:1"), ap("10.0.0.2:2"), "PROXY TCP4 10.0.0.1 10.0.0.2 1 2\r\n"},
		{ap("[2001:db8::1]:5"), ap("[::1]:6"), "PROXY TCP6 2001:db8::1 ::1 5 6\r\n"},
		{ap("[2001:db8::1]:5"), ap("10.0.0.2:6"), "PROXY UNKNOWN\r\n"},
	}
	for _, tt := range tests {
		got := string(appendProxyV1(nil, tt.src, tt.dst))
		if got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
		if h, n, err := parseProxy([]byte(got)); err != nil || n != len(got) || (!h.Local && h.Src.Port() != tt.src.Port()) {
			t.Errorf("round trip of %q: %+v %d %v", got, h, n, err)
		}
	}
}

// FuzzParseProxy: never panics, never claims more bytes than it was
// given, and an accepted header parses the same from a longer buffer and
// reports "incomplete" (never "bad") for each of its proper prefixes.
func FuzzParseProxy(f *testing.F) {
	f.Add([]byte("PROXY TCP4 192.0.2.1 198.51.100.2 5555 443\r\n"))
	f.Add([]byte("PROXY UNKNOWN\r\n"))
	f.Add(appendProxyV2(nil, netip.MustParseAddrPort("[::2]:1"), netip.MustParseAddrPort("[::3]:2")))
	f.Add(append(append([]byte{}, v2sig...), 0x21, 0x11, 0xff, 0xff))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, n, err := parseProxy(b)
		if err != nil {
			return
		}
		if n <= 0 || n > len(b) {
			t.Fatalf("length %d of %d", n, len(b))
		}
		h2, n2, err2 := parseProxy(append(bytes.Clone(b[:n]), "tail"...))
		if err2 != nil || n2 != n || h2 != h {
			t.Fatalf("with a tail: %+v %d %v, alone %+v %d", h2, n2, err2, h, n)
		}
		for i := 0; i < n; i++ {
			if _, _, e := parseProxy(b[:i]); e != errIncomplete {
				t.Fatalf("prefix %d of an accepted header: %v", i, e)
			}
		}
	})
}
