package h1server

import (
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
)

// parseRequest fills r from a head that CheckHead accepted. s is the head
// as one string, the request's only copy of it: method, target, keys
// and values are substrings of it, so a head costs one allocation for
// its text, one for the header map and one for all single values.
// It returns the status to refuse with, or 0.
func parseRequest(r *http.Request, s string, hi HeadInfo) int {
	line, rest, _ := strings.Cut(s[:len(s)-4], "\r\n")
	sp1 := strings.IndexByte(line, ' ')
	sp2 := strings.LastIndexByte(line, ' ')
	r.Method = line[:sp1]
	r.RequestURI = line[sp1+1 : sp2]
	r.ProtoMajor, r.ProtoMinor, r.Proto = 1, 1, "HTTP/1.1"
	if hi.HTTP10 {
		r.ProtoMinor, r.Proto = 0, "HTTP/1.0"
	}
	// The request target as net/http reads it: origin or absolute form,
	// and CONNECT's authority form.
	raw := r.RequestURI
	authority := r.Method == "CONNECT" && !strings.HasPrefix(raw, "/")
	if authority {
		raw = "http://" + raw
	}
	u, err := url.ParseRequestURI(raw)
	if err != nil {
		return http.StatusBadRequest
	}
	if authority {
		u.Scheme = ""
	}
	r.URL = u

	n := strings.Count(rest, "\r\n") + 1
	h := make(http.Header, n)
	vals := make([]string, n)
	for i := 0; rest != ""; i++ {
		var l string
		l, rest, _ = strings.Cut(rest, "\r\n")
		colon := strings.IndexByte(l, ':')
		k := canonicalKey(l[:colon])
		v := strings.Trim(l[colon+1:], " \t")
		if old, ok := h[k]; ok {
			h[k] = append(old, v)
			continue
		}
		vals[i] = v
		h[k] = vals[i : i+1 : i+1]
	}
	r.Header = h
	r.Host = u.Host
	if !validHost([]byte(u.Host)) {
		return http.StatusBadRequest // the absolute form's host, held to the Host header's rule
	}
	if hosts := h["Host"]; r.Host == "" && len(hosts) > 0 {
		r.Host = hosts[0]
	}
	// net/http moves Host and Transfer-Encoding out of the header map;
	// handlers written for it read r.Host and r.TransferEncoding.
	delete(h, "Host")
	r.Close = wantsClose(h["Connection"], hi.HTTP10)
	switch {
	case hi.Chunked:
		delete(h, "Transfer-Encoding")
		r.TransferEncoding = chunkedTE
		r.ContentLength = -1
	default:
		r.ContentLength = hi.Length
	}
	fixPragmaCacheControl(h)
	return 0
}

var chunkedTE = []string{"chunked"}

// wantsClose is net/http's shouldClose for requests.
func wantsClose(conn []string, http10 bool) bool {
	if http10 {
		return hasToken(conn, "close") || !hasToken(conn, "keep-alive")
	}
	return hasToken(conn, "close")
}

// hasToken reports whether a comma-separated list in vv holds token,
// case-insensitively.
func hasToken(vv []string, token string) bool {
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

// fixPragmaCacheControl is what net/http does to every request (RFC 7234
// section 5.4), kept so that backends see what they saw before.
func fixPragmaCacheControl(h http.Header) {
	if hp, ok := h["Pragma"]; ok && len(hp) > 0 && hp[0] == "no-cache" {
		if _, ok := h["Cache-Control"]; !ok {
			h["Cache-Control"] = []string{"no-cache"}
		}
	}
}

// canonicalKey is textproto.CanonicalMIMEHeaderKey without an
// allocation when the client already sent the canonical form.
func canonicalKey(k string) string {
	upper := true
	for i := 0; i < len(k); i++ {
		c := k[i]
		if upper && c >= 'a' && c <= 'z' || !upper && c >= 'A' && c <= 'Z' {
			return textproto.CanonicalMIMEHeaderKey(k)
		}
		upper = c == '-'
	}
	return k
}
