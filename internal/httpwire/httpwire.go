// Package httpwire holds the few HTTP/1 wire rules that the server
// (h1server), the backend client (h1client) and the proxy (httpproxy)
// must apply identically: token characters and tokens, optional white
// space, Content-Length and chunk-size digits, comma-separated token lists
// and idempotent methods. It has no
// state and no I/O; framing and parsing stay with their owners.
package httpwire

import "strings"

// IsToken reports whether c is an RFC 9110 tchar.
func IsToken(c byte) bool { return tokenTable[c] }

// TrimOWS removes the optional white space (spaces and tabs) around a
// field value.
func TrimOWS[T ~string | ~[]byte](s T) T {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// IsTokenString reports whether s is a token: a method or a field name,
// one or more tchars.
func IsTokenString[T ~string | ~[]byte](s T) bool {
	if len(s) == 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !tokenTable[s[i]] {
			return false
		}
	}
	return true
}

var tokenTable = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			strings.IndexByte("!#$%&'*+-.^_`|~", byte(c)) >= 0
	}
	return t
}()

// ParseLength reads a Content-Length value: digits only, no sign, no
// list, at most 18 digits (no overflow).
func ParseLength[T ~string | ~[]byte](v T) (int64, bool) {
	if len(v) == 0 || len(v) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return 0, false
		}
		n = n*10 + int64(v[i]-'0')
	}
	return n, true
}

// ParseHex reads a chunk size: 1 to 15 hex digits (no sign, no space, no
// overflow).
func ParseHex(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 15 {
		return 0, false
	}
	var v int64
	for _, ch := range b {
		var d byte
		switch {
		case ch >= '0' && ch <= '9':
			d = ch - '0'
		case ch >= 'a' && ch <= 'f':
			d = ch - 'a' + 10
		case ch >= 'A' && ch <= 'F':
			d = ch - 'A' + 10
		default:
			return 0, false
		}
		v = v<<4 | int64(d)
	}
	return v, true
}

// HasToken reports whether the comma-separated lists in vv (a header's
// values, such as Connection) hold token, case-insensitively.
func HasToken(vv []string, token string) bool {
	for _, v := range vv {
		for v != "" {
			var t string
			t, v, _ = strings.Cut(v, ",")
			if strings.EqualFold(strings.Trim(t, " \t"), token) {
				return true
			}
		}
	}
	return false
}

// Idempotent reports an RFC 9110 idempotent method: one that may be sent
// to a backend twice.
func Idempotent(method string) bool {
	switch method {
	case "GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE":
		return true
	}
	return false
}
