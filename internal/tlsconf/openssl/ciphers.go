// Package openssl translates OpenSSL's configuration vocabulary (cipher
// strings, curve names, protocol names) into Go's crypto/tls identifiers,
// so that nginx's ssl_ciphers, ssl_ecdh_curve and ssl_protocols lines carry
// over unchanged. It is a leaf package: the config loader uses it to reject
// bad values at load, and tlsconf to build configurations.
package openssl

import (
	"crypto/tls"
	"fmt"
	"strings"
)

// suite is one TLS 1.2 suite Go implements, with its OpenSSL name and the
// OpenSSL keywords ("aliases") that select it.
type suite struct {
	id   uint16
	name string
	tags string
}

// suites lists the TLS 1.2 suites Go implements in Go's preference order.
// RC4 and 3DES are absent on purpose: they are broken, so naming them only
// warns (see isSuiteName). As in OpenSSL, SHA256 and SHA384 name the MAC
// of CBC suites; AEAD suites (GCM, ChaCha20) carry neither tag.
var suites = []suite{
	{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, "ECDHE-ECDSA-AES128-GCM-SHA256", "kECDHE ECDHE kEECDH EECDH ECDH aECDSA ECDSA AES AES128 AESGCM AEAD TLSv1.2 HIGH"},
	{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, "ECDHE-RSA-AES128-GCM-SHA256", "kECDHE ECDHE kEECDH EECDH ECDH aRSA AES AES128 AESGCM AEAD TLSv1.2 HIGH"},
	{tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, "ECDHE-ECDSA-AES256-GCM-SHA384", "kECDHE ECDHE kEECDH EECDH ECDH aECDSA ECDSA AES AES256 AESGCM AEAD TLSv1.2 HIGH"},
	{tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, "ECDHE-RSA-AES256-GCM-SHA384", "kECDHE ECDHE kEECDH EECDH ECDH aRSA AES AES256 AESGCM AEAD TLSv1.2 HIGH"},
	{tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, "ECDHE-ECDSA-CHACHA20-POLY1305", "kECDHE ECDHE kEECDH EECDH ECDH aECDSA ECDSA CHACHA20 AEAD TLSv1.2 HIGH"},
	{tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, "ECDHE-RSA-CHACHA20-POLY1305", "kECDHE ECDHE kEECDH EECDH ECDH aRSA CHACHA20 AEAD TLSv1.2 HIGH"},
	{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256, "ECDHE-ECDSA-AES128-SHA256", "kECDHE ECDHE kEECDH EECDH ECDH aECDSA ECDSA AES AES128 SHA256 TLSv1.2 HIGH"},
	{tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256, "ECDHE-RSA-AES128-SHA256", "kECDHE ECDHE kEECDH EECDH ECDH aRSA AES AES128 SHA256 TLSv1.2 HIGH"},
	{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, "ECDHE-ECDSA-AES128-SHA", "kECDHE ECDHE kEECDH EECDH ECDH aECDSA ECDSA AES AES128 SHA1 SHA SSLv3 TLSv1 HIGH"},
	{tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, "ECDHE-RSA-AES128-SHA", "kECDHE ECDHE kEECDH EECDH ECDH aRSA AES AES128 SHA1 SHA SSLv3 TLSv1 HIGH"},
	{tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, "ECDHE-ECDSA-AES256-SHA", "kECDHE ECDHE kEECDH EECDH ECDH aECDSA ECDSA AES AES256 SHA1 SHA SSLv3 TLSv1 HIGH"},
	{tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA, "ECDHE-RSA-AES256-SHA", "kECDHE ECDHE kEECDH EECDH ECDH aRSA AES AES256 SHA1 SHA SSLv3 TLSv1 HIGH"},
	{tls.TLS_RSA_WITH_AES_128_GCM_SHA256, "AES128-GCM-SHA256", "kRSA RSA aRSA AES AES128 AESGCM AEAD TLSv1.2 HIGH"},
	{tls.TLS_RSA_WITH_AES_256_GCM_SHA384, "AES256-GCM-SHA384", "kRSA RSA aRSA AES AES256 AESGCM AEAD TLSv1.2 HIGH"},
	{tls.TLS_RSA_WITH_AES_128_CBC_SHA256, "AES128-SHA256", "kRSA RSA aRSA AES AES128 SHA256 TLSv1.2 HIGH"},
	{tls.TLS_RSA_WITH_AES_128_CBC_SHA, "AES128-SHA", "kRSA RSA aRSA AES AES128 SHA1 SHA SSLv3 TLSv1 HIGH"},
	{tls.TLS_RSA_WITH_AES_256_CBC_SHA, "AES256-SHA", "kRSA RSA aRSA AES AES256 SHA1 SHA SSLv3 TLSv1 HIGH"},
}

// keywords are OpenSSL's cipher-string words that select no suite Go has
// (or only broken ones); they are valid and select nothing.
var keywords = map[string]bool{
	"MEDIUM": true, "LOW": true, "EXP": true, "EXPORT": true, "EXPORT40": true, "EXPORT56": true,
	"aNULL": true, "eNULL": true, "NULL": true, "COMPLEMENTOFALL": true, "COMPLEMENTOFDEFAULT": true,
	"MD5": true, "RC4": true, "DES": true, "3DES": true, "IDEA": true, "SEED": true, "RC2": true,
	"CAMELLIA": true, "CAMELLIA128": true, "CAMELLIA256": true, "ARIA": true, "ARIA128": true, "ARIA256": true,
	"ARIAGCM": true, "AESCCM": true, "AESCCM8": true, "PSK": true, "kPSK": true, "aPSK": true,
	"kECDHEPSK": true, "kDHEPSK": true, "kRSAPSK": true, "SRP": true, "kSRP": true, "aSRP": true,
	"DSS": true, "aDSS": true, "DH": true, "kDH": true, "DHE": true, "EDH": true, "kDHE": true, "kEDH": true,
	"ADH": true, "AECDH": true, "kDHr": true, "kDHd": true, "kECDHr": true, "kECDHe": true, "aECDH": true,
	"aDH": true, "GOST": true, "kGOST": true, "aGOST": true, "aGOST01": true, "GOST94": true, "GOST89MAC": true,
	"SUITEB128": true, "SUITEB128ONLY": true, "SUITEB192": true, "FIPS": true, "CBC": true, "SHA224": true, "SHA384": true,
}

// nameParts are the words OpenSSL builds suite names from; a dashed name
// made only of them is a real OpenSSL suite that Go lacks (warned about),
// anything else is a typo (an error).
var nameParts = map[string]bool{
	"ECDHE": true, "ECDH": true, "DHE": true, "EDH": true, "DH": true, "ADH": true, "AECDH": true,
	"RSA": true, "ECDSA": true, "DSS": true, "PSK": true, "SRP": true, "ANON": true, "NULL": true,
	"AES128": true, "AES256": true, "AES": true, "GCM": true, "CCM": true, "CCM8": true, "CBC": true, "CBC3": true,
	"DES": true, "RC4": true, "RC2": true, "IDEA": true, "SEED": true, "CAMELLIA128": true, "CAMELLIA256": true,
	"ARIA128": true, "ARIA256": true, "CHACHA20": true, "POLY1305": true, "SHA": true, "SHA256": true,
	"SHA384": true, "MD5": true, "EXP": true, "EXP1024": true, "GOST2001": true, "GOST89": true, "GOST94": true,
}

// Ciphers is the outcome of reading a cipher string.
type Ciphers struct {
	// Suites are the TLS 1.2 suites selected, in order. TLS 1.3 suites are
	// not configurable in Go (nor by ssl_ciphers in nginx).
	Suites []uint16
	// Skipped are suites the string names explicitly that Go does not
	// implement (DHE, CAMELLIA, RC4, ...); the caller warns about them.
	Skipped []string
}

// ParseCiphers reads an OpenSSL cipher string ("HIGH:!aNULL:!MD5",
// "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256", ...) with
// OpenSSL's operators: a plain term adds, "-" removes, "!" removes for good,
// "+" moves to the end, and "A+B" means suites that are both A and B.
// A word OpenSSL would not know is an error naming it.
func ParseCiphers(s string) (Ciphers, error) {
	var out Ciphers
	var list []int // indexes into suites, in order
	killed := map[int]bool{}
	has := func(i int) bool {
		for _, j := range list {
			if j == i {
				return true
			}
		}
		return false
	}
	terms := strings.FieldsFunc(s, func(r rune) bool { return r == ':' || r == ',' || r == ' ' || r == ';' })
	for _, term := range terms {
		op := byte(0)
		if term[0] == '!' || term[0] == '-' || term[0] == '+' {
			op, term = term[0], term[1:]
		}
		if strings.HasPrefix(term, "@") {
			// @STRENGTH, @SECLEVEL=n: ordering and policy hints that
			// Go's fixed preference order replaces.
			continue
		}
		if strings.HasPrefix(term, "TLS_") {
			// TLS 1.3 names belong to OpenSSL's Ciphersuites setting;
			// Go always offers all three, so they change nothing.
			continue
		}
		sel, err := selectTerm(term, &out)
		if err != nil {
			return Ciphers{}, err
		}
		switch op {
		case 0:
			for _, i := range sel {
				if !killed[i] && !has(i) {
					list = append(list, i)
				}
			}
		case '-', '!':
			keep := list[:0]
			for _, i := range list {
				if !contains(sel, i) {
					keep = append(keep, i)
				}
			}
			list = keep
			if op == '!' {
				for _, i := range sel {
					killed[i] = true
				}
			}
		case '+':
			var front, back []int
			for _, i := range list {
				if contains(sel, i) {
					back = append(back, i)
				} else {
					front = append(front, i)
				}
			}
			list = append(front, back...)
		}
	}
	for _, i := range list {
		out.Suites = append(out.Suites, suites[i].id)
	}
	return out, nil
}

// selectTerm returns the suites one term ("HIGH", "EECDH+AESGCM", a suite
// name) selects.
func selectTerm(term string, out *Ciphers) ([]int, error) {
	if term == "" {
		return nil, fmt.Errorf("empty cipher term")
	}
	if term == "DEFAULT" || term == "ALL" {
		all := make([]int, len(suites))
		for i := range suites {
			all[i] = i
		}
		return all, nil
	}
	for i, s := range suites {
		if s.name == term {
			return []int{i}, nil
		}
	}
	if isSuiteName(term) {
		out.Skipped = append(out.Skipped, term)
		return nil, nil
	}
	var sel []int
	for k, word := range strings.Split(term, "+") {
		if word == "" {
			return nil, fmt.Errorf("invalid cipher term %q", term)
		}
		var match []int
		known := keywords[word]
		for i, s := range suites {
			if hasTag(s.tags, word) {
				match = append(match, i)
				known = true
			}
		}
		if !known {
			return nil, fmt.Errorf("unknown cipher %q in %q: use OpenSSL names such as ECDHE-RSA-AES128-GCM-SHA256 or keywords such as HIGH, ECDHE, AESGCM, !aNULL", word, term)
		}
		if k == 0 {
			sel = match
			continue
		}
		var both []int
		for _, i := range sel {
			if contains(match, i) {
				both = append(both, i)
			}
		}
		sel = both
	}
	return sel, nil
}

// isSuiteName reports whether term is spelled like an OpenSSL suite name
// ("DHE-RSA-AES128-GCM-SHA256") from known parts.
func isSuiteName(term string) bool {
	parts := strings.Split(term, "-")
	if len(parts) < 2 {
		return term == "RC4-MD5" || term == "NULL-SHA"
	}
	for _, p := range parts {
		if !nameParts[p] {
			return false
		}
	}
	return true
}

func hasTag(tags, word string) bool {
	for _, t := range strings.Fields(tags) {
		if t == word {
			return true
		}
	}
	return false
}

func contains(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
