package httpproxy

import (
	"bytes"
	"net/http"
	"strings"
)

// headInfo is what the guard needs from a valid head: the body framing.
type headInfo struct {
	chunked bool
	length  int64
}

// checkHead validates one request head (ending in CRLF CRLF) as nginx
// would, more strictly where nginx is lenient with ambiguity. It returns
// the status to refuse with, or 0.
func checkHead(head []byte, lim Limits) (headInfo, int) {
	var h headInfo
	if bytes.IndexByte(head, 0) >= 0 {
		return h, http.StatusBadRequest
	}
	if len(head) > lim.HeaderBufSize*lim.HeaderBufNum {
		return h, http.StatusRequestHeaderFieldsTooLarge
	}
	lines := head[:len(head)-4]
	first := true
	http10 := false
	hasCL, hasTE, hasHost := false, false, false
	for len(lines) > 0 || first {
		var line []byte
		if i := bytes.Index(lines, []byte("\r\n")); i >= 0 {
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
			if http10, code = checkRequestLine(line); code != 0 {
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
		for _, ch := range name {
			if !isTokenChar(ch) {
				return h, http.StatusBadRequest // includes space before the colon
			}
		}
		value := bytes.Trim(line[colon+1:], " \t")
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
			n, ok := parseLength(value)
			if !ok {
				return h, http.StatusBadRequest
			}
			h.length = n
		case asciiEqualFold(name, "transfer-encoding"):
			if hasTE {
				return h, http.StatusBadRequest
			}
			hasTE = true
			if !asciiEqualFold(value, "chunked") {
				return h, http.StatusNotImplemented
			}
			h.chunked = true
		case asciiEqualFold(name, "host"):
			if hasHost {
				return h, http.StatusBadRequest
			}
			hasHost = true
		case len(name) >= 15 && asciiEqualFold(name[:15], "x-bunsan-reject"):
			return h, http.StatusBadRequest
		}
	}
	switch {
	case hasCL && hasTE:
		return h, http.StatusBadRequest
	case hasTE && http10:
		return h, http.StatusBadRequest
	}
	return h, 0
}

// checkRequestLine checks "METHOD SP TARGET SP HTTP/1.x".
func checkRequestLine(line []byte) (http10 bool, code int) {
	sp1 := bytes.IndexByte(line, ' ')
	sp2 := bytes.LastIndexByte(line, ' ')
	if sp1 <= 0 || sp2 <= sp1+1 {
		return false, http.StatusBadRequest
	}
	for _, ch := range line[:sp1] {
		if !isTokenChar(ch) {
			return false, http.StatusBadRequest
		}
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

func parseLength(v []byte) (int64, bool) {
	if len(v) == 0 || len(v) > 18 {
		return 0, false
	}
	var n int64
	for _, ch := range v {
		if ch < '0' || ch > '9' {
			return 0, false
		}
		n = n*10 + int64(ch-'0')
	}
	return n, true
}

func isTokenChar(c byte) bool {
	if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
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
