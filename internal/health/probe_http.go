package health

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"bunsan/internal/config"
)

// maxBody is how much of a response body a match's body test reads, as
// NGINX Plus reads what fits its proxy buffer.
const maxBody = 256 << 10

// probe runs one check of the server at addr; nil means it passed.
func probe(ctx context.Context, c *config.HealthCheck, addr string) error {
	switch c.Type {
	case config.CheckTCP:
		return probeTCP(ctx, c, addr)
	case config.CheckUDP:
		return probeUDP(ctx, c, addr)
	case config.CheckGRPC:
		return probeGRPC(ctx, c, addr)
	}
	return probeHTTP(ctx, c, addr)
}

// transport makes a one-connection transport for one check: the check's
// own connect and read timeouts, no keep-alive (a check must see the
// server answer a fresh connection), no proxy from the environment.
func transport(c *config.HealthCheck) *http.Transport {
	d := &net.Dialer{Timeout: c.ConnectTimeout}
	return &http.Transport{
		DialContext:            d.DialContext,
		DisableKeepAlives:      true,
		ResponseHeaderTimeout:  c.ReadTimeout,
		MaxResponseHeaderBytes: 64 << 10,
	}
}

// deadline bounds a whole check: connecting, then reading.
func deadline(ctx context.Context, c *config.HealthCheck) (context.Context, context.CancelFunc) {
	total := c.ConnectTimeout + c.ReadTimeout
	if total <= 0 {
		total = 2 * config.DefaultCheckTimeout
	}
	return context.WithTimeout(ctx, total)
}

// probeHTTP sends GET uri with the proxy_pass host as Host and applies
// the match block, or, with none, wants a 2xx or 3xx status.
func probeHTTP(ctx context.Context, c *config.HealthCheck, addr string) error {
	ctx, cancel := deadline(ctx, c)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+c.URI, nil)
	if err != nil {
		return err
	}
	if c.Host != "" {
		req.Host = c.Host
	}
	req.Header.Set("User-Agent", "bunsan-health-check")
	tr := transport(c)
	defer tr.CloseIdleConnections()
	resp, err := tr.RoundTrip(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var body []byte
	if m := c.MatchBlock; m != nil && m.Body != nil {
		body, err = io.ReadAll(io.LimitReader(resp.Body, maxBody))
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("reading body: %w", err)
		}
	}
	return matchHTTP(c.MatchBlock, resp.StatusCode, resp.Header, body)
}

// matchHTTP applies a match block to a response; nil m is NGINX Plus's
// default: a 2xx or 3xx status.
func matchHTTP(m *config.Match, status int, h http.Header, body []byte) error {
	if m == nil {
		if status < 200 || status > 399 {
			return fmt.Errorf("status %d", status)
		}
		return nil
	}
	if len(m.Status) > 0 {
		in := false
		for _, r := range m.Status {
			in = in || (status >= r.Lo && status <= r.Hi)
		}
		if in == m.StatusNot {
			return fmt.Errorf("status %d does not match %q", status, m.Name)
		}
	}
	for _, t := range m.Headers {
		vals, present := h[http.CanonicalHeaderKey(t.Name)]
		v := strings.Join(vals, ", ")
		var ok bool
		switch t.Op {
		case "":
			ok = present
		case "!":
			ok = !present
		case "=":
			ok = present && v == t.Value
		case "!=":
			ok = !present || v != t.Value
		case "~":
			ok = present && t.Re.MatchString(v)
		case "!~":
			ok = !present || !t.Re.MatchString(v)
		}
		if !ok {
			return fmt.Errorf("header %s fails %q of match %q", t.Name, t.Op+" "+t.Value, m.Name)
		}
	}
	if m.Body != nil && m.Body.Match(body) == m.BodyNot {
		return fmt.Errorf("body fails match %q", m.Name)
	}
	return nil
}

// readTimeout is a check's read budget as a deadline from now.
func readDeadline(c *config.HealthCheck) time.Time {
	t := c.ReadTimeout
	if t <= 0 {
		t = config.DefaultCheckTimeout
	}
	return time.Now().Add(t)
}
