package h1server

import (
	"bytes"
	"errors"
	"net/http"
	"strings"

	"bunsan/internal/httpwire"
)

// These rules are the guard's (internal/httpproxy), moved here so that
// the guard, still in front of net/http for HTTP/1 over TLS, and this
// server apply one set. nginx is lenient with some ambiguities (it takes
// the last Content-Length, folds lines); bunsan refuses them, because a
// proxy that reads a request differently from its backend can be used to
// smuggle one.

// ErrBadFraming is the error of a request body whose chunked framing is
// invalid; the proxy answers 400 and closes.
var ErrBadFraming = errors.New("invalid chunked body")

// HeadInfo is what a valid head says about the body framing.
type HeadInfo struct {
	Chunked bool
	Length  int64
	HTTP10  bool
}

// CheckHead validates one request head (ending in CRLF CRLF) as nginx
// would, more strictly where nginx is lenient with ambiguity. It returns
// the status to refuse with, or 0.
func CheckHead(head []byte, lim Limits) (HeadInfo, int) {
	var h HeadInfo
	if bytes.IndexByte(head, 0) >= 0 {
		return h, http.StatusBadRequest
	}
	if len(head) > lim.maxHead() {
		return h, http.StatusRequestHeaderFieldsTooLarge
	}
	lines := head[:len(head)-4]
	first := true
	hasCL, hasTE, hasHost := false, false, false
	for len(lines) > 0 || first {
		var line []byte
		if i := bytes.Index(lines, crlf); i >= 0 {
			line, lines = lines[:i], lines[i+2:]
		} else {
			line, lines = lines, nil
		}
		// A CR or LF inside a line is a bare line end or a smuggled one.
		if bytes.IndexByte(line, '\r') >= 0 || bytes.IndexByte(line, '\n') >= 0 {
			return h, http.StatusBadRequest
		}
		if first {
			first = false
			if len(line) > lim.HeaderBufSize {
				return h, http.StatusRequestURITooLong
			}
			var code int
			if h.HTTP10, code = CheckRequestLine(line); code != 0 {
				return h, code
			}
			continue
		}
		if len(line) > lim.HeaderBufSize {
			return h, http.StatusRequestHeaderFieldsTooLarge
		}
		if line[0] == ' ' || line[0] == '\t' {
			return h, http.StatusBadRequest // obsolete line folding
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			return h, http.StatusBadRequest
		}
		name := line[:colon]
		if !httpwire.IsTokenString(name) {
			return h, http.StatusBadRequest // includes space before the colon
		}
		value := httpwire.TrimOWS(line[colon+1:])
		for _, ch := range value {
			if ch < 0x20 && ch != '\t' || ch == 0x7f {
				return h, http.StatusBadRequest
			}
		}
		switch {
		case asciiEqualFold(name, "content-length"):
			if hasCL {
				return h, http.StatusBadRequest
			}
			hasCL = true
			n, ok := ParseLength(value)
			if !ok {
				return h, http.StatusBadRequest
			}
			h.Length = n
		case asciiEqualFold(name, "transfer-encoding"):
			if hasTE {
				return h, http.StatusBadRequest
			}
			hasTE = true
			if !asciiEqualFold(value, "chunked") {
				return h, http.StatusNotImplemented
			}
			h.Chunked = true
		case asciiEqualFold(name, "host"):
			if hasHost || !validHost(value) {
				return h, http.StatusBadRequest
			}
			hasHost = true
		case len(name) >= 15 && asciiEqualFold(name[:15], "x-bunsan-reject"):
			// Reserved for the proxy's synthetic refusals.
			return h, http.StatusBadRequest
		}
	}
	switch {
	case hasCL && hasTE:
		return h, http.StatusBadRequest
	case hasTE && h.HTTP10:
		return h, http.StatusBadRequest
	case !hasHost && !h.HTTP10:
		return h, http.StatusBadRequest // HTTP/1.1 requires Host, as in nginx
	}
	return h, 0
}

var crlf = []byte("\r\n")

// CheckRequestLine checks "METHOD SP TARGET SP HTTP/1.x".
func CheckRequestLine(line []byte) (http10 bool, code int) {
	sp1 := bytes.IndexByte(line, ' ')
	sp2 := bytes.LastIndexByte(line, ' ')
	if sp1 <= 0 || sp2 <= sp1+1 {
		return false, http.StatusBadRequest
	}
	if !httpwire.IsTokenString(line[:sp1]) {
		return false, http.StatusBadRequest
	}
	for _, ch := range line[sp1+1 : sp2] {
		if ch <= ' ' || ch == 0x7f {
			return false, http.StatusBadRequest
		}
	}
	switch string(line[sp2+1:]) {
	case "HTTP/1.1":
		return false, 0
	case "HTTP/1.0":
		return true, 0
	}
	if strings.HasPrefix(string(line[sp2+1:]), "HTTP/") {
		return false, http.StatusHTTPVersionNotSupported
	}
	return false, http.StatusBadRequest
}

// EarlyLimit refuses a head that cannot fit before it is complete, and
// a bare LF seen so far, so that a client cannot make the server buffer
// more than the limits allow. in is the incomplete head so far.
func EarlyLimit(in []byte, lim Limits) int {
	line := in
	nl := bytes.IndexByte(in, '\n')
	if nl >= 0 {
		line = in[:nl]
		if nl == 0 || in[nl-1] != '\r' {
			return http.StatusBadRequest
		}
	}
	if len(line) > lim.HeaderBufSize && nl < 0 {
		return http.StatusRequestURITooLong
	}
	if len(in) > lim.maxHead() {
		return http.StatusRequestHeaderFieldsTooLarge
	}
	return 0
}

// ParseLength reads a Content-Length value (httpwire's rule).
func ParseLength(v []byte) (int64, bool) { return httpwire.ParseLength(v) }

// ParseChunkSize reads "HEX[;ext]\r\n" strictly: hex digits only, no
// sign, no leading space, at most 15 digits (no overflow).
func ParseChunkSize(line []byte) (int64, bool) {
	n := len(line)
	if n < 3 || line[n-2] != '\r' || line[n-1] != '\n' {
		return 0, false
	}
	line = line[:n-2]
	if i := bytes.IndexByte(line, ';'); i >= 0 {
		if bytes.ContainsAny(line[i:], "\r\n\x00") {
			return 0, false
		}
		line = line[:i]
	}
	return httpwire.ParseHex(line)
}

// CheckTrailerLine validates one line of a chunked body's trailer,
// including its LF; an empty line (CRLF) ends the trailer.
func CheckTrailerLine(line []byte) bool {
	i := len(line) - 1
	if i < 1 || line[i] != '\n' || line[i-1] != '\r' {
		return false
	}
	return bytes.IndexByte(line[:i-1], '\r') < 0 && bytes.IndexByte(line[:i], '\n') < 0 && bytes.IndexByte(line, 0) < 0
}

// validHost is net/http's (httpguts.ValidHostHeader) lenient byte check,
// which net/http applied behind the guard before.
func validHost(v []byte) bool {
	for _, c := range v {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') &&
			strings.IndexByte("!$%&()*+,-.:;=[]'_~", c) < 0 {
			return false
		}
	}
	return true
}

func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		c := b[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}
