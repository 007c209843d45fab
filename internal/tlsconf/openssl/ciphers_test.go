package openssl

import (
	"crypto/tls"
	"slices"
	"strings"
	"testing"
)

func TestParseCiphers(t *testing.T) {
	tests := []struct {
		in      string
		want    []uint16
		skipped []string
		err     string
	}{
		{in: "ECDHE-RSA-AES128-GCM-SHA256", want: []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}},
		{in: "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256",
			want: []uint16{tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}},
		// Mozilla's intermediate list: the DHE suites Go lacks are skipped by name.
		{in: "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES128-GCM-SHA256",
			want:    []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256},
			skipped: []string{"DHE-RSA-AES128-GCM-SHA256"}},
		{in: "EECDH+AESGCM:!aECDSA", want: []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384}},
		{in: "HIGH:!aNULL:!MD5:!kRSA:!SHA1:!SHA256:!SHA384:!AESGCM", want: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256}},
		// "!" is final; "-" may be added back.
		{in: "ECDHE-RSA-AES128-GCM-SHA256:!ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256", want: nil},
		{in: "AES128-SHA:-AES128-SHA:AES128-SHA", want: []uint16{tls.TLS_RSA_WITH_AES_128_CBC_SHA}},
		{in: "AES128-SHA:ECDHE-RSA-AES128-SHA:+kRSA", want: []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, tls.TLS_RSA_WITH_AES_128_CBC_SHA}},
		{in: "TLS_AES_128_GCM_SHA256:ECDHE-RSA-AES128-GCM-SHA256@STRENGTH", err: "unknown cipher"},
		{in: "TLS_AES_128_GCM_SHA256:ECDHE-RSA-AES128-GCM-SHA256:@STRENGTH", want: []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}},
		{in: "ECDHE-RSA-AES128-GCM-SHA257", err: `unknown cipher "ECDHE-RSA-AES128-GCM-SHA257"`},
		{in: "HIGH:BOGUS", err: `unknown cipher "BOGUS"`},
	}
	for _, tt := range tests {
		got, err := ParseCiphers(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: error %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got.Suites, tt.want) || !slices.Equal(got.Skipped, tt.skipped) {
			t.Errorf("%q: %v skipped %v, %v; want %v skipped %v", tt.in, names(got.Suites), got.Skipped, err, names(tt.want), tt.skipped)
		}
	}
}

func names(ids []uint16) []string {
	var out []string
	for _, id := range ids {
		out = append(out, tls.CipherSuiteName(id))
	}
	return out
}

func TestParseCurves(t *testing.T) {
	tests := []struct {
		in   string
		want []tls.CurveID
		err  bool
	}{
		{in: "auto"},
		{in: "X25519:prime256v1:secp384r1", want: []tls.CurveID{tls.X25519, tls.CurveP256, tls.CurveP384}},
		{in: "secp256k1", err: true},
	}
	for _, tt := range tests {
		got, err := ParseCurves(tt.in)
		if (err != nil) != tt.err || !slices.Equal(got, tt.want) {
			t.Errorf("%q: %v, %v", tt.in, got, err)
		}
	}
}

func TestProtocols(t *testing.T) {
	tests := []struct {
		in       []string
		min, max uint16
		ok       bool
	}{
		{[]string{"TLSv1.2", "TLSv1.3"}, tls.VersionTLS12, tls.VersionTLS13, true},
		{[]string{"TLSv1", "TLSv1.1", "TLSv1.2"}, tls.VersionTLS12, tls.VersionTLS12, true},
		{[]string{"TLSv1.3"}, tls.VersionTLS13, tls.VersionTLS13, true},
		{[]string{"TLSv1.1"}, 0, 0, false},
	}
	for _, tt := range tests {
		lo, hi, ok := Protocols(tt.in)
		if lo != tt.min || hi != tt.max || ok != tt.ok {
			t.Errorf("%v: %x %x %v", tt.in, lo, hi, ok)
		}
	}
}
