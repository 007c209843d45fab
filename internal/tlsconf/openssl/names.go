package openssl

import (
	"crypto/tls"
	"fmt"
	"strings"
)

// curves maps OpenSSL's group names (and the NIST aliases nginx users
// write) to Go's identifiers.
var curves = map[string]tls.CurveID{
	"prime256v1": tls.CurveP256, "secp256r1": tls.CurveP256, "P-256": tls.CurveP256,
	"secp384r1": tls.CurveP384, "P-384": tls.CurveP384,
	"secp521r1": tls.CurveP521, "P-521": tls.CurveP521,
	"X25519": tls.X25519, "x25519": tls.X25519,
	"X25519MLKEM768":     tls.X25519MLKEM768,
	"SecP256r1MLKEM768":  tls.SecP256r1MLKEM768,
	"SecP384r1MLKEM1024": tls.SecP384r1MLKEM1024,
}

// ParseCurves reads ssl_ecdh_curve: "auto" (Go's defaults, returned as
// nil) or a colon-separated list of group names.
func ParseCurves(s string) ([]tls.CurveID, error) {
	if s == "auto" {
		return nil, nil
	}
	var out []tls.CurveID
	for _, n := range strings.Split(s, ":") {
		c, ok := curves[n]
		if !ok {
			return nil, fmt.Errorf("unsupported curve %q: use auto or a list of X25519, prime256v1, secp384r1, secp521r1, X25519MLKEM768", n)
		}
		out = append(out, c)
	}
	return out, nil
}

// Protocols maps ssl_protocols names to the version range Go should allow.
// SSLv2, SSLv3, TLSv1 and TLSv1.1 are accepted as nginx does but never
// enabled: Go refuses them as servers, and they are broken. ok is false
// when no name left is usable.
func Protocols(names []string) (minV, maxV uint16, ok bool) {
	minV, maxV = tls.VersionTLS13, tls.VersionTLS12
	for _, p := range names {
		switch p {
		case "TLSv1.2":
			minV, maxV = min(minV, tls.VersionTLS12), max(maxV, tls.VersionTLS12)
		case "TLSv1.3":
			minV, maxV = min(minV, tls.VersionTLS13), max(maxV, tls.VersionTLS13)
		}
	}
	if minV > maxV {
		return 0, 0, false
	}
	return minV, maxV, true
}

// ValidProtocol reports whether name is an ssl_protocols word nginx knows.
func ValidProtocol(name string) bool {
	switch name {
	case "SSLv2", "SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3":
		return true
	}
	return false
}
