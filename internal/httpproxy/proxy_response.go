package httpproxy

import (
	"io"
	"net/http"
	"strings"
	"sync"

	"bunsan/internal/config"
	"bunsan/internal/upstream"
)

// hideSet is nginx's default proxy_hide_header list plus the configured
// ones, less those proxy_pass_header lets through. The defaults are a
// switch, so that a location without proxy_hide_header or
// proxy_pass_header looks nothing up per response header.
type hideSet struct {
	set map[string]bool // configured names: true hides, false passes
}

func hiddenHeaders(p *config.Proxy) hideSet {
	var s hideSet
	if len(p.HideHeaders)+len(p.PassHeaders) == 0 {
		return s
	}
	s.set = map[string]bool{}
	for _, h := range p.HideHeaders {
		s.set[http.CanonicalHeaderKey(h)] = true
	}
	for _, h := range p.PassHeaders {
		s.set[http.CanonicalHeaderKey(h)] = false
	}
	return s
}

// hidden reports whether the backend's header k (canonical) stays away
// from the client.
func (s hideSet) hidden(k string) bool {
	if s.set != nil {
		if v, ok := s.set[k]; ok {
			return v
		}
	}
	switch k {
	case "X-Pad", "X-Accel-Expires", "X-Accel-Redirect", "X-Accel-Limit-Rate", "X-Accel-Buffering", "X-Accel-Charset":
		return true
	}
	return false
}

// respond sends the backend's response to the client, or, with
// proxy_intercept_errors and an error_page for its status, that page.
func (h *proxyHandler) respond(c *reqCtx, loc *location, resp *http.Response, peer *upstream.Peer, route string) {
	defer resp.Body.Close()
	if h.cfg.InterceptErrors && resp.StatusCode >= 300 && loc.hasErrorPage(resp.StatusCode) {
		c.errorPage(loc, resp.StatusCode)
		return
	}
	if resp.StatusCode == http.StatusSwitchingProtocols {
		h.switchProtocols(c, resp)
		return
	}
	removeHopHeaders(resp.Header)
	dst := c.w.Header()
	for k, vv := range resp.Header {
		if h.hide.hidden(k) {
			continue
		}
		if k == "Location" || k == "Refresh" {
			vv = []string{h.rewriteRedirect(c, vv[0])}
		}
		dst[k] = vv
	}
	c.upHeader = resp.Header // $upstream_http_*, $upstream_cookie_*
	if h.sticky != nil {
		h.sticky.after(c, resp, peer, route)
	}
	loc.addHeaders(c, resp.StatusCode)
	c.w.WriteHeader(resp.StatusCode)
	if !h.cfg.Buffering || first(resp.Header, "X-Accel-Buffering") == "no" || isEventStream(resp) {
		copyFlushing(c.w, resp.Body)
	} else {
		bp := copyBufs.Get().(*[]byte)
		_, _ = io.CopyBuffer(writerOnly{c.w}, resp.Body, *bp)
		copyBufs.Put(bp)
	}
	if b, ok := resp.Body.(interface{ Complete() bool }); ok && !b.Complete() {
		// The backend's body broke off (short of its length, a broken
		// chunked framing, a timeout): the client must not take what it
		// got for the whole answer, so its connection is closed without
		// the end of the response, as nginx does.
		abortClient(c)
	}
	if o, ok := resp.Body.(interface{ Overran() bool }); ok && o.Overran() {
		// The client got the declared bytes; the backend connection was
		// closed, not reused, so the rest reaches no one.
		h.log.Warn("upstream sent more data than specified in \"Content-Length\" header while reading upstream",
			"upstream", resp.Request.URL.Host, "request", c.r.Method+" "+c.r.RequestURI, "client", remoteHost(c.r), "server", serverName(c))
	}
}

// copyBufs are the response copy buffers, reused across requests.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// writerOnly hides every method but Write, so that io.CopyBuffer uses
// the pooled buffer instead of looking for ReadFrom.
//
// A single pointer field keeps it pointer-shaped: turning it into an
// io.Writer allocates nothing.
type writerOnly struct{ w *respWriter }

func (o writerOnly) Write(p []byte) (int, error) { return o.w.Write(p) }

func isEventStream(resp *http.Response) bool {
	return strings.HasPrefix(first(resp.Header, "Content-Type"), "text/event-stream") && resp.ContentLength < 0
}

// first is Header.Get for a key already in canonical form, as h1client
// stores them: no canonicalisation of the key on every response.
func first(h http.Header, key string) string {
	if vv := h[key]; len(vv) > 0 {
		return vv[0]
	}
	return ""
}

// copyFlushing writes each chunk as it arrives (proxy_buffering off).
func copyFlushing(w *respWriter, src io.Reader) {
	rc := http.NewResponseController(w.rw)
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	buf := *bp
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return
			}
			_ = rc.Flush()
		}
		if err != nil {
			return
		}
	}
}

// abortClient closes the client connection at once; a response cut off
// there cannot be mistaken for a complete one, whatever its framing.
func abortClient(c *reqCtx) {
	if conn, _, err := http.NewResponseController(c.w.rw).Hijack(); err == nil {
		conn.Close()
	}
}

// switchProtocols completes an upgrade (WebSocket): the 101 goes to the
// client, then bytes are copied both ways until either side closes.
func (h *proxyHandler) switchProtocols(c *reqCtx, resp *http.Response) {
	up, ok := resp.Body.(io.ReadWriteCloser)
	if !ok {
		c.errorPage(nil, http.StatusBadGateway)
		return
	}
	conn, brw, err := http.NewResponseController(c.w.rw).Hijack()
	if err != nil {
		c.errorPage(nil, http.StatusInternalServerError)
		return
	}
	defer conn.Close()
	if c.conn.guard != nil {
		c.conn.guard.passThrough()
	}
	c.w.status = http.StatusSwitchingProtocols
	resp.Body = nil
	// The backend's 101 header goes out as received, Connection and
	// Upgrade included: they are the handshake, not hop-by-hop noise.
	if err := resp.Write(brw); err != nil {
		return
	}
	if err := brw.Flush(); err != nil {
		return
	}
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(up, brw); done <- struct{}{} }()
	go func() { _, _ = io.Copy(conn, up); done <- struct{}{} }()
	<-done
	up.Close()
	conn.Close()
	<-done
}
