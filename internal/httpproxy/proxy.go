package httpproxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"bunsan/internal/config"
	"bunsan/internal/upstream"
)

// proxyHandler is proxy_pass in one location: the target (a group or a
// fixed host), the merged proxy settings, and a transport for them.
type proxyHandler struct {
	cfg       *config.Proxy
	locPath   string
	prefixLoc bool
	group     *upstream.Group
	hashKey   *expr
	// fixed is the backend address when proxy_pass names a host.
	fixed     string
	proxyHost string
	headers   []setHeader
	transport *http.Transport
	log       *slog.Logger
}

type setHeader struct {
	name  string
	value *expr
}

func newProxyHandler(lc *config.Location, groups map[string]*upstream.Group, log *slog.Logger) (handler, error) {
	pp := lc.Proxy.Pass
	h := &proxyHandler{
		cfg:       &lc.Proxy,
		locPath:   lc.Path,
		prefixLoc: lc.Modifier == config.LocPrefix || lc.Modifier == config.LocNoRegex || lc.Modifier == config.LocExact,
		proxyHost: pp.Host,
		log:       log,
	}
	if pp.Scheme != "http" {
		return nil, fmt.Errorf("%s:%d: proxy_pass %q: https to backends is not supported yet", pp.Pos.File, pp.Pos.Line, pp.Raw)
	}
	if strings.Contains(pp.Host, "$") {
		return nil, fmt.Errorf("%s:%d: proxy_pass %q: variables in proxy_pass are not supported yet", pp.Pos.File, pp.Pos.Line, pp.Raw)
	}
	if pp.Group != "" {
		h.group = groups[pp.Group]
		if spec := h.group.Spec(); spec.Method == upstream.Hash {
			e, err := compileExpr(spec.HashKey)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: hash key: %w", spec.File, spec.Line, err)
			}
			h.hashKey = e
		}
	} else {
		h.fixed = pp.Host
		if _, _, err := net.SplitHostPort(pp.Host); err != nil {
			h.fixed = net.JoinHostPort(strings.Trim(pp.Host, "[]"), "80")
		}
	}
	for _, sh := range lc.Proxy.SetHeaders {
		e, err := compileExpr(sh.Value)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: proxy_set_header %s: %w", lc.Pos.File, lc.Pos.Line, sh.Name, err)
		}
		h.headers = append(h.headers, setHeader{name: sh.Name, value: e})
	}
	h.transport = newTransport(&lc.Proxy)
	return h, nil
}

func newTransport(p *config.Proxy) *http.Transport {
	d := &net.Dialer{Timeout: p.ConnectTimeout, KeepAlive: 30 * time.Second}
	return &http.Transport{
		DialContext:           d.DialContext,
		ResponseHeaderTimeout: p.ReadTimeout,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       60 * time.Second,
		DisableCompression:    true,
		// The client's Accept-Encoding passes through untouched; the
		// response body is copied as the backend sent it.
		ForceAttemptHTTP2: false,
	}
}

// serve runs one request through pick → prepare → round trip → classify
// → retry or respond → copy.
func (h *proxyHandler) serve(w http.ResponseWriter, r *http.Request, loc *location) {
	body := &trackedBody{rc: r.Body}
	out := h.prepare(r, body)
	var tried upstream.Tried
	pick := upstream.PickRequest{Tried: &tried}
	if h.group != nil {
		h.fillPick(&pick, r)
	}
	deadline := time.Time{}
	if h.cfg.NextTimeout > 0 {
		deadline = time.Now().Add(h.cfg.NextTimeout)
	}
	for attempt := 1; ; attempt++ {
		peer, addr, err := h.pick(&pick, attempt)
		if err != nil {
			h.log.Error("no live upstreams while connecting to upstream", "upstream", h.proxyHost, "request", r.Method+" "+r.RequestURI, "client", r.RemoteAddr)
			writeError(w, http.StatusBadGateway)
			return
		}
		out.URL.Host = addr
		start := time.Now()
		resp, err := h.transport.RoundTrip(out)
		res := classify(err, resp, h.cfg)
		outcome := upstream.Outcome{Result: res, HeaderTime: time.Since(start)}
		if res == upstream.Success {
			h.copyResponse(w, resp)
			outcome.ResponseTime = time.Since(start)
			h.done(peer, outcome)
			return
		}
		if resp != nil {
			// A status that proxy_next_upstream names: try the next server
			// if allowed, else pass this response on as it is.
			retry := h.canRetry(r, body, res, attempt, deadline)
			if resp.StatusCode == 403 || resp.StatusCode == 404 {
				outcome.Result = upstream.Next // not the server's failure
			}
			if !retry {
				h.copyResponse(w, resp)
				outcome.ResponseTime = time.Since(start)
				h.done(peer, outcome)
				return
			}
			resp.Body.Close()
			h.done(peer, outcome)
			continue
		}
		h.done(peer, outcome)
		h.log.Error("upstream request failed", "error", err, "upstream", addr, "request", r.Method+" "+r.RequestURI, "client", r.RemoteAddr)
		if r.Context().Err() != nil {
			return // the client went away; nothing to answer
		}
		if !h.retryOn(res) || !h.canRetry(r, body, res, attempt, deadline) {
			if res == upstream.Timeout {
				writeError(w, http.StatusGatewayTimeout)
			} else {
				writeError(w, http.StatusBadGateway)
			}
			return
		}
	}
}

// done reports an attempt's outcome to the group (fixed hosts have none).
func (h *proxyHandler) done(peer *upstream.Peer, o upstream.Outcome) {
	if peer != nil {
		h.group.Done(peer, o)
	}
}

func (h *proxyHandler) fillPick(p *upstream.PickRequest, r *http.Request) {
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		p.ClientAddr = ap.Addr().Unmap()
	}
	if h.hashKey != nil {
		p.HashKey = h.hashKey.eval(r, nil)
	}
}

func (h *proxyHandler) pick(p *upstream.PickRequest, attempt int) (*upstream.Peer, string, error) {
	if h.group == nil {
		if attempt > 1 {
			return nil, "", upstream.ErrNoLiveUpstreams // one fixed server, already tried
		}
		return nil, h.fixed, nil
	}
	peer, err := h.group.Pick(p)
	if err != nil {
		return nil, "", err
	}
	return peer, peer.Addr(), nil
}

// retryOn says whether proxy_next_upstream covers a failure without a
// response.
func (h *proxyHandler) retryOn(res upstream.Result) bool {
	nu := h.cfg.NextUpstream
	switch res {
	case upstream.ConnectError:
		return nu.Error
	case upstream.Timeout:
		return nu.Timeout
	case upstream.InvalidHeader:
		return nu.InvalidHeader || nu.Error
	}
	return false
}

// canRetry applies nginx's limits on passing a request to the next server:
// tries, the time limit, and a request that reached the backend is not
// sent again unless it is idempotent or non_idempotent allows it.
func (h *proxyHandler) canRetry(r *http.Request, body *trackedBody, res upstream.Result, attempt int, deadline time.Time) bool {
	switch {
	case h.cfg.NextUpstream.Off,
		h.cfg.NextTries > 0 && attempt >= h.cfg.NextTries,
		!deadline.IsZero() && time.Now().After(deadline):
		return false
	case h.group != nil && attempt >= h.group.Tries():
		return false // every server had its turn, as nginx's peer.tries
	case body.touched:
		// The body is streamed, not buffered: once read it is gone.
		return false
	}
	sent := res != upstream.ConnectError
	return !sent || isIdempotent(r.Method) || h.cfg.NextUpstream.NonIdempotent
}

func isIdempotent(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodOptions, http.MethodTrace:
		return true
	}
	return false
}

// classify turns a round trip's result into the outcome the group counts.
func classify(err error, resp *http.Response, p *config.Proxy) upstream.Result {
	if err != nil {
		var ne net.Error
		var oe *net.OpError
		switch {
		case errors.As(err, &oe) && oe.Op == "dial":
			if oe.Timeout() {
				return upstream.Timeout
			}
			return upstream.ConnectError
		case errors.As(err, &ne) && ne.Timeout(), errors.Is(err, context.DeadlineExceeded):
			return upstream.Timeout
		case errors.Is(err, context.Canceled):
			return upstream.Aborted
		}
		return upstream.InvalidHeader
	}
	for _, code := range p.NextUpstream.HTTPStatus {
		if resp.StatusCode == code {
			return upstream.BadStatus
		}
	}
	return upstream.Success
}

// prepare builds the outgoing request once; retries only change its host.
func (h *proxyHandler) prepare(r *http.Request, body *trackedBody) *http.Request {
	out := r.Clone(r.Context())
	out.RequestURI = ""
	out.URL.Scheme = "http"
	out.URL.Opaque, out.URL.RawQuery = h.upstreamURI(r)
	out.Host = h.proxyHost
	if r.ContentLength == 0 {
		out.Body = nil
	} else {
		out.Body = body
	}
	out.Close = false
	removeHopHeaders(out.Header)
	for _, sh := range h.headers {
		v := sh.value.eval(r, nil)
		if strings.EqualFold(sh.name, "Host") {
			out.Host = string(v)
			continue
		}
		if len(v) == 0 {
			out.Header.Del(sh.name) // nginx drops headers set to ""
			continue
		}
		out.Header.Set(sh.name, string(v))
	}
	return out
}

// upstreamURI applies nginx's rule: without a URI in proxy_pass the
// client's URI goes unchanged; with one, the matched location prefix is
// replaced by it. It returns the path and the query apart, as url.URL
// keeps them.
func (h *proxyHandler) upstreamURI(r *http.Request) (path, query string) {
	pp := h.cfg.Pass
	if !pp.HasURI || !h.prefixLoc {
		path, _, _ = strings.Cut(r.RequestURI, "?")
		return path, r.URL.RawQuery
	}
	return pp.URI + strings.TrimPrefix(r.URL.EscapedPath(), h.locPath), r.URL.RawQuery
}

// copyResponse sends the backend's response to the client.
func (h *proxyHandler) copyResponse(w http.ResponseWriter, resp *http.Response) {
	defer resp.Body.Close()
	removeHopHeaders(resp.Header)
	dst := w.Header()
	for k, vv := range resp.Header {
		dst[k] = vv
	}
	w.WriteHeader(resp.StatusCode)
	if !h.cfg.Buffering {
		copyFlushing(w, resp.Body)
		return
	}
	_, _ = io.Copy(w, resp.Body)
}

// copyFlushing writes each chunk as it arrives (proxy_buffering off).
func copyFlushing(w http.ResponseWriter, src io.Reader) {
	rc := http.NewResponseController(w)
	buf := make([]byte, 32<<10)
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

// hopHeaders are removed in both directions (RFC 9110 section 7.6.1).
var hopHeaders = []string{
	"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade",
}

func removeHopHeaders(h http.Header) {
	for _, v := range h["Connection"] {
		for _, name := range strings.Split(v, ",") {
			if name = strings.TrimSpace(name); name != "" {
				h.Del(name)
			}
		}
	}
	for _, name := range hopHeaders {
		h.Del(name)
	}
}

// trackedBody remembers whether the request body was read, which decides
// whether a failed attempt may be retried, and never closes the client's
// body on behalf of a failed round trip.
type trackedBody struct {
	rc      io.ReadCloser
	touched bool
}

func (b *trackedBody) Read(p []byte) (int, error) {
	b.touched = true
	return b.rc.Read(p)
}

func (b *trackedBody) Close() error { return nil }
