package h1server

import (
	"net/http"
	"net/textproto"
	"net/url"
	"strings"

	"bunsan/internal/httpwire"
)

// reqStore is the memory a request's URL and header live in besides the
// head's text. A connection's active state keeps one and reuses it for
// each request (the handler must not keep r, its URL or its header after
// returning, as with the response header): a head then costs one
// allocation, for its text.
type reqStore struct {
	url    url.URL
	header http.Header
	vals   []string // backing array of the single header values
}

// maxKeptFields bounds the header map and values a reqStore keeps for the
// next request: a head with many fields should not make every later one
// clear a large map, nor pin the memory in the pool.
const maxKeptFields = 32

// reset forgets a request: no string of its head stays reachable.
func (st *reqStore) reset() {
	st.url = url.URL{}
	if len(st.header) > maxKeptFields {
		st.header = nil
	}
	clear(st.header)
	clear(st.vals)
}

// parseRequest fills r from a head that CheckHead accepted. s is the head
// as one string, the request's only copy of it: method, target, keys
// and values are substrings of it. The URL, the header map and the
// values' backing array are st's (reused), or fresh when st is nil.
// It returns the status to refuse with, or 0.
func parseRequest(r *http.Request, s string, hi HeadInfo, st *reqStore) int {
	if st == nil {
		st = new(reqStore)
	}
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
	u := &st.url
	if err := parseTarget(u, raw); err != nil {
		return http.StatusBadRequest
	}
	if authority {
		u.Scheme = ""
	}
	r.URL = u

	n := strings.Count(rest, "\r\n") + 1
	h := st.header
	if h == nil {
		h = make(http.Header, n)
		if n <= maxKeptFields {
			st.header = h
		}
	} else {
		clear(h)
	}
	vals := st.vals
	if cap(vals) < n {
		vals = make([]string, n)
		if n <= maxKeptFields {
			st.vals = vals
		}
	}
	vals = vals[:n]
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

// parseTarget is url.ParseRequestURI into u. A plain origin-form target
// (a path of bytes that never need escaping, then perhaps a query) is
// split in place without allocating: for it the parse only cuts at the
// first '?'. Anything else goes through net/url.
func parseTarget(u *url.URL, raw string) error {
	if path, query, ok := plainTarget(raw); ok {
		*u = url.URL{Path: path, RawQuery: query}
		return nil
	}
	v, err := url.ParseRequestURI(raw)
	if err != nil {
		return err
	}
	*u = *v
	return nil
}

// plainTarget splits a target whose parse is a plain cut: it starts with
// '/', its path holds only pathSafe bytes (no '%' to decode, nothing that
// would make RawPath differ), there is no control byte, and it does not
// end in '?' (url sets ForceQuery then).
func plainTarget(raw string) (path, query string, ok bool) {
	if raw == "" || raw[0] != '/' || raw[len(raw)-1] == '?' {
		return "", "", false
	}
	i := 0
	for ; i < len(raw) && raw[i] != '?'; i++ {
		if !pathSafe[raw[i]] {
			return "", "", false
		}
	}
	for j := i; j < len(raw); j++ {
		if raw[j] < ' ' || raw[j] == 0x7f {
			return "", "", false
		}
	}
	if i == len(raw) {
		return raw, "", true
	}
	return raw[:i], raw[i+1:], true
}

// pathSafe marks the bytes net/url leaves unescaped in a path (RFC 3986
// unreserved, and the sub-delimiters it allows there).
var pathSafe = func() (t [256]bool) {
	for _, c := range []byte("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~$&+,/:;=@") {
		t[c] = true
	}
	return t
}()

// wantsClose is net/http's shouldClose for requests.
func wantsClose(conn []string, http10 bool) bool {
	if http10 {
		return httpwire.HasToken(conn, "close") || !httpwire.HasToken(conn, "keep-alive")
	}
	return httpwire.HasToken(conn, "close")
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
