package openssl

import (
	"crypto/tls"
	"testing"
)

// FuzzParseCiphers checks that any cipher string either fails or selects
// only suites Go implements, each once.
func FuzzParseCiphers(f *testing.F) {
	for _, s := range []string{"HIGH:!aNULL:!MD5", "EECDH+AESGCM:EDH+AESGCM", "ECDHE-RSA-AES128-GCM-SHA256:+kRSA:-AES128-SHA", "!", "@STRENGTH", "a+b+"} {
		f.Add(s)
	}
	known := map[uint16]bool{}
	for _, s := range suites {
		known[s.id] = true
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCiphers(s)
		if err != nil {
			return
		}
		seen := map[uint16]bool{}
		for _, id := range c.Suites {
			if !known[id] || seen[id] {
				t.Fatalf("%q selected %s (known %v, repeated %v)", s, tls.CipherSuiteName(id), known[id], seen[id])
			}
			seen[id] = true
		}
	})
}
