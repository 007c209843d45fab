package httpproxy

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/textproto"
	"strings"
	"time"

	"bunsan/internal/config"
	"bunsan/internal/h1client"
	"bunsan/internal/httpwire"
	"bunsan/internal/metrics"
	"bunsan/internal/tlsconf"
	"bunsan/internal/upstream"
)

// proxyHandler is proxy_pass in one location: the target (a group or a
// fixed host), the merged proxy settings, and a transport for them.
type proxyHandler struct {
	mx        *metrics.Metrics // nil without metrics
	cfg       *config.Proxy
	locPath   string
	prefixLoc bool
	group     *upstream.Group
	hashKey   *expr
	// fixed is the backend address when proxy_pass names a host; host is
	// set instead when the host holds variables.
	fixed     string
	host      *expr
	uri       *expr // the URI part when it holds variables
	proxyHost string
	scheme    string // "http" or "https" to the backend
	headers   []setHeader
	hide      hideSet
	redirects []redirect
	transport *h1client.Pool
	log       *slog.Logger
	sticky    *stickyWire
	vars      *varScope
	// explainWanted is set when picks must say why they chose a server:
	// upstream_explain_header, or an error log at debug level (fixed for
	// the logger's life, so decided once here, not per request).
	explainWanted bool
}

// setHeader is one proxy_set_header, its name canonical (or host set
// for Host, which is the request's Host field) once at load.
type setHeader struct {
	name  string
	host  bool
	value *expr
}

func newProxyHandler(lc *config.Location, s *Snapshot, log *slog.Logger) (handler, error) {
	pp := lc.Proxy.Pass
	at := func(err error) error {
		return fmt.Errorf("%s:%d: proxy_pass %q: %w", pp.Pos.File, pp.Pos.Line, pp.Raw, err)
	}
	h := &proxyHandler{mx: s.mx,
		cfg:       &lc.Proxy,
		locPath:   lc.Path,
		prefixLoc: lc.Modifier == config.LocPrefix || lc.Modifier == config.LocNoRegex || lc.Modifier == config.LocExact,
		proxyHost: pp.Host,
		scheme:    "http",
		log:       log,
		vars:      s.vars,
	}
	var tc *tls.Config
	if pp.Scheme == "https" {
		var err error
		if tc, err = backendTLS(s, lc); err != nil {
			return nil, at(err)
		}
		h.scheme = "https"
	}
	switch {
	case pp.Group != "":
		h.group = s.groups[pp.Group]
		if spec := h.group.Spec(); spec.Method == upstream.Hash {
			e, err := compileExpr(spec.HashKey, s.vars)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: hash key: %w", spec.File, spec.Line, err)
			}
			h.hashKey = e
		}
		sw, err := newStickyWire(h.group, s.vars)
		if err != nil {
			return nil, at(err)
		}
		h.sticky = sw
	case strings.Contains(pp.Host, "$"):
		e, err := compileExpr(pp.Host, s.vars)
		if err != nil {
			return nil, at(err)
		}
		h.host = e
	default:
		h.fixed = defaultPort(pp.Host, h.scheme)
	}
	if pp.HasURI && strings.Contains(pp.URI, "$") {
		e, err := compileExpr(pp.URI, s.vars)
		if err != nil {
			return nil, at(err)
		}
		h.uri = e
	}
	for _, sh := range lc.Proxy.SetHeaders {
		e, err := compileExpr(sh.Value, s.vars)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: proxy_set_header %s: %w", lc.Pos.File, lc.Pos.Line, sh.Name, err)
		}
		h.headers = append(h.headers, setHeader{name: textproto.CanonicalMIMEHeaderKey(sh.Name), host: strings.EqualFold(sh.Name, "Host"), value: e})
	}
	h.hide = hiddenHeaders(&lc.Proxy)
	rd, err := compileRedirects(lc, s.vars)
	if err != nil {
		return nil, err
	}
	h.redirects = rd
	h.transport = s.transportFor(&lc.Proxy, h.group, tc)
	h.explainWanted = lc.Proxy.ExplainHeader != "" || log.Enabled(context.Background(), slog.LevelDebug)
	return h, nil
}

func defaultPort(host, scheme string) string {
	if _, _, err := net.SplitHostPort(host); err != nil {
		port := "80"
		if scheme == "https" {
			port = "443"
		}
		return net.JoinHostPort(strings.Trim(host, "[]"), port)
	}
	return host
}

// backendTLS is the client TLS configuration of proxy_pass https://,
// from the proxy_ssl_* settings in effect for the location; built once
// per location so that its session cache lets backends resume sessions.
func backendTLS(s *Snapshot, lc *config.Location) (*tls.Config, error) {
	p := s.http.ProxyTLS(s.building, lc)
	name := p.Name
	if name == "$proxy_host" {
		name = lc.Proxy.Pass.Host
	} else if strings.Contains(name, "$") {
		return nil, errors.New("variables in proxy_ssl_name are not supported yet")
	}
	return tlsconf.ClientConfig(p, name)
}

// serve runs one request through pick → prepare → round trip → classify
// → retry or respond → copy.
func (h *proxyHandler) serve(c *reqCtx, loc *location) {
	r := c.r
	c.proxyHost = h.proxyHost
	body, status := readBody(c, h.cfg, loc.bodyTimeout)
	if status != 0 {
		c.errorPage(loc, status)
		return
	}
	sc := getScratch()
	defer putScratch(sc)
	out := h.prepare(c, body, sc)
	pick := upstream.PickRequest{Tried: &sc.tried}
	if h.group != nil {
		h.fillPick(&pick, c)
		// Why the balancer chose a server costs nothing unless asked for:
		// by upstream_explain_header or a debug error log.
		if h.explainWanted {
			pick.Explain = &upstream.Explanation{}
		}
	}
	deadline := time.Time{}
	if h.cfg.NextTimeout > 0 {
		deadline = c.start.Add(h.cfg.NextTimeout)
	}
	lastStatus := 0
	for attempt := 1; ; attempt++ {
		peer, addr, err := h.pick(c, &pick, attempt)
		if err != nil && lastStatus != 0 {
			// Every server that could be tried was: answer as the last
			// failure did (504 after a timeout), as nginx does.
			c.errorPage(loc, lastStatus)
			return
		}
		if err != nil {
			h.log.Error("no live upstreams while connecting to upstream", "upstream", h.proxyHost, "request", r.Method+" "+r.RequestURI, "client", remoteHost(r), "server", serverName(c))
			c.attempts = append(c.attempts, attempt_(h.proxyHost))
			c.errorPage(loc, http.StatusBadGateway)
			return
		}
		if attempt > 1 && out.GetBody != nil {
			out.Body, _ = out.GetBody()
		}
		if pick.Explain != nil {
			h.explain(c, pick.Explain)
		}
		out.URL.Host = addr
		c.attempts = append(c.attempts, attempt_(addr))
		a := &c.attempts[len(c.attempts)-1]
		resp, err := h.roundTrip(out, a)
		if resp != nil {
			c.upHeaders = append(c.upHeaders, resp.Header)
		}
		res := classify(err, resp, h.cfg)
		outcome := upstream.Outcome{Result: res, ConnectTime: a.connect, HeaderTime: a.header}
		if resp != nil {
			a.status = resp.StatusCode
			outcome.Status = resp.StatusCode
			retry := res == upstream.BadStatus && h.canRetry(r, body, res, attempt, deadline)
			if resp.StatusCode == 403 || resp.StatusCode == 404 {
				outcome.Result = upstream.Next // not the server's failure
			}
			if !retry {
				h.respond(c, loc, resp, peer, pick.Route)
				a.total = time.Since(c.start)
				outcome.ResponseTime = a.total
				h.done(peer, outcome)
				return
			}
			resp.Body.Close()
			a.total = time.Since(c.start)
			h.done(peer, outcome)
			continue
		}
		a.total = time.Since(c.start)
		h.done(peer, outcome)
		if r.Context().Err() != nil {
			// The client went away: nginx logs 499 and answers nothing.
			c.w.status = 499
			h.log.Info("client closed connection while waiting for upstream", "upstream", addr, "request", r.Method+" "+r.RequestURI, "client", remoteHost(r))
			return
		}
		h.log.Error(upstreamErrText(res, err)+" while reading response header from upstream", "error", err, "upstream", "http://"+addr+out.URL.Opaque, "request", r.Method+" "+r.RequestURI, "client", remoteHost(r), "server", serverName(c))
		lastStatus = http.StatusBadGateway
		if res == upstream.Timeout {
			lastStatus = http.StatusGatewayTimeout
		}
		if !h.retryOn(res) || !h.canRetry(r, body, res, attempt, deadline) {
			c.errorPage(loc, lastStatus)
			return
		}
	}
}

func attempt_(addr string) attempt { return attempt{addr: addr} }

// upstreamErrText is nginx's wording for why an attempt failed.
func upstreamErrText(res upstream.Result, err error) string {
	switch {
	case res == upstream.ConnectError:
		return "connect() failed"
	case res == upstream.Timeout:
		return "upstream timed out"
	case errors.Is(err, h1client.ErrHeadTooLarge):
		return "upstream sent too big header"
	case errors.Is(err, h1client.ErrInvalidHead):
		return "upstream sent invalid header"
	}
	return "upstream prematurely closed connection"
}

func serverName(c *reqCtx) string {
	if c.srv != nil && len(c.srv.cfg.Names) > 0 {
		return c.srv.cfg.Names[0]
	}
	return ""
}

// roundTrip sends one attempt and records its connect and header times
// (a kept-alive connection shows 0.000, as in nginx). The request's
// context is the client's: a client that goes away ends the attempt.
func (h *proxyHandler) roundTrip(out *http.Request, a *attempt) (*http.Response, error) {
	resp, info, err := h.transport.RoundTrip(out.Context(), out.URL.Host, out)
	if info.Reused {
		a.connect = time.Nanosecond
	} else if info.Connect > 0 {
		a.connect = info.Connect
	}
	if err == nil {
		a.header = time.Since(info.Start)
	}
	return resp, err
}

// done reports an attempt's outcome to the group (fixed hosts have none).
func (h *proxyHandler) done(peer *upstream.Peer, o upstream.Outcome) {
	if peer != nil {
		h.group.Done(peer, o)
		if h.mx != nil {
			h.mx.Peer(false, h.group.Name(), peer.Addr()).Observe(0, 0, o.ConnectTime, o.HeaderTime, o.ResponseTime)
		}
	}
}

// explain reports why the last pick chose its server: in the debug log,
// and in the configured response header (the last pick wins on retries).
func (h *proxyHandler) explain(c *reqCtx, ex *upstream.Explanation) {
	text := ex.String()
	h.log.Debug("upstream pick", "upstream", h.group.Name(), "explain", text, "request", c.r.Method+" "+c.r.RequestURI)
	if h.cfg.ExplainHeader != "" {
		c.w.Header().Set(h.cfg.ExplainHeader, text)
	}
}

func (h *proxyHandler) fillPick(p *upstream.PickRequest, c *reqCtx) {
	if h.group.UsesClientAddr() {
		if ap, err := netip.ParseAddrPort(c.r.RemoteAddr); err == nil {
			p.ClientAddr = ap.Addr().Unmap()
		}
	}
	if h.hashKey != nil {
		p.HashKey = h.hashKey.eval(c, nil)
	}
	if h.sticky != nil {
		p.Route = h.sticky.route(c)
	}
}

func (h *proxyHandler) pick(c *reqCtx, p *upstream.PickRequest, attempt int) (*upstream.Peer, string, error) {
	if h.group == nil {
		if attempt > 1 {
			return nil, "", upstream.ErrNoLiveUpstreams // one fixed server, already tried
		}
		if h.host != nil {
			return nil, defaultPort(h.host.String(c), h.scheme), nil
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
func (h *proxyHandler) canRetry(r *http.Request, body *reqBody, res upstream.Result, attempt int, deadline time.Time) bool {
	switch {
	case h.cfg.NextUpstream.Off,
		h.cfg.NextTries > 0 && attempt >= h.cfg.NextTries,
		!deadline.IsZero() && time.Now().After(deadline):
		return false
	case h.group == nil:
		return false // one fixed server
	case attempt >= h.group.Tries():
		return false // every server had its turn, as nginx's peer.tries
	case !body.replayable() && body.touched():
		// A streamed body (proxy_request_buffering off) is gone once read.
		return false
	}
	sent := res != upstream.ConnectError
	return !sent || httpwire.Idempotent(r.Method) || h.cfg.NextUpstream.NonIdempotent
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
