package httpproxy

import (
	"net/http"
	"strings"

	"bunsan/internal/httpwire"
)

// prepare builds the outgoing request once; retries only change its host
// and rewind its body.
//
// The client's header values are shared, not copied: nothing appends to
// or edits a value slice of the outgoing header, it only replaces or
// deletes whole entries.
func (h *proxyHandler) prepare(c *reqCtx, body *reqBody, sc *scratch) *http.Request {
	r := c.r
	out := &sc.out
	*out = *r
	out.RequestURI = ""
	sc.url = *r.URL
	out.URL = &sc.url
	out.URL.Scheme = h.scheme
	out.URL.Opaque, out.URL.RawQuery = h.upstreamURI(c)
	out.URL.Path, out.URL.RawPath = "", ""
	out.Host = h.proxyHost
	out.Proto, out.ProtoMajor, out.ProtoMinor = "HTTP/1.1", 1, 1
	out.TransferEncoding = nil
	out.Trailer = nil
	out.Close = false
	body.attach(out)
	if !h.cfg.PassRequestHeaders {
		out.Header = sc.hdr
	} else {
		out.Header = sc.hdr
		for k, vv := range r.Header {
			out.Header[k] = vv
		}
		removeHopHeaders(out.Header)
		// nginx clears these by default (ngx_http_proxy_headers).
		out.Header.Del("Expect")
	}
	for _, sh := range h.headers {
		v := sh.value.String(c)
		if sh.host {
			out.Host = v
			continue
		}
		if v == "" {
			delete(out.Header, sh.name) // nginx drops headers set to ""
			continue
		}
		out.Header[sh.name] = []string{v}
	}
	// Upgrade reaches the backend only when the configuration sets it
	// with "Connection: upgrade", as nginx's WebSocket recipe does.
	if !httpwire.HasToken(out.Header["Connection"], "upgrade") {
		delete(out.Header, "Upgrade")
	}
	if h.cfg.HTTPVersion == "1.0" {
		out.Close = true
	}
	return out
}

// upstreamURI applies nginx's rule: without a URI in proxy_pass the
// client's URI goes unchanged; with one, the matched location prefix of
// the normalised URI is replaced by it (and the result escaped again).
// It returns the path and the query apart.
func (h *proxyHandler) upstreamURI(c *reqCtx) (path, query string) {
	r := c.r
	pp := h.cfg.Pass
	switch {
	case h.uri != nil:
		// With variables, the URI is used as given (nginx: the whole
		// request URI is replaced).
		full := h.uri.String(c)
		path, query, _ = strings.Cut(full, "?")
		return path, query
	case !pp.HasURI || !h.prefixLoc:
		path, _, _ = strings.Cut(r.RequestURI, "?")
		if path == "" || path[0] != '/' {
			path = r.URL.EscapedPath()
		}
		return path, r.URL.RawQuery
	}
	rest := strings.TrimPrefix(c.uri, h.locPath)
	return pp.URI + escapePath(rest), r.URL.RawQuery
}

// removeHopHeaders deletes the hop-by-hop headers and every header the
// Connection header names.
func removeHopHeaders(h http.Header) {
	for _, v := range h["Connection"] {
		for rest := v; rest != ""; {
			var name string
			name, rest, _ = strings.Cut(rest, ",")
			// "close" and "keep-alive" name no header: skip the lookup.
			if name = strings.TrimSpace(name); name != "" && !strings.EqualFold(name, "close") && !strings.EqualFold(name, "keep-alive") {
				h.Del(name)
			}
		}
	}
	// A head has a handful of fields: looking at each beats hashing
	// every hop-by-hop name for a delete.
	for k := range h {
		if isHopHeader(k) {
			delete(h, k)
		}
	}
}

// isHopHeader: the hop-by-hop fields, removed in both directions (RFC
// 9110 section 7.6.1; Proxy-Connection as nginx and browsers know it).
func isHopHeader(k string) bool {
	switch k {
	case "Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
		"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade":
		return true
	}
	return false
}

// escapePath percent-encodes what may not stand in a path as nginx's
// ngx_escape_uri(NGX_ESCAPE_URI) does for the part after the location.
func escapePath(p string) string {
	const hex = "0123456789ABCDEF"
	n := 0
	for i := 0; i < len(p); i++ {
		if needsEscape(p[i]) {
			n++
		}
	}
	if n == 0 {
		return p
	}
	b := make([]byte, 0, len(p)+2*n)
	for i := 0; i < len(p); i++ {
		ch := p[i]
		if needsEscape(ch) {
			b = append(b, '%', hex[ch>>4], hex[ch&15])
		} else {
			b = append(b, ch)
		}
	}
	return string(b)
}

func needsEscape(c byte) bool {
	return c <= ' ' || c >= 0x7f || c == '"' || c == '#' || c == '%' || c == '?' || c == '<' || c == '>' || c == '\\' || c == '^' || c == '`' || c == '{' || c == '|' || c == '}'
}
