package httpproxy

import (
	"net/http"
	"strings"
	"time"

	"bunsan/internal/upstream"
)

// stickyWire connects a group's sticky directive to HTTP: where the
// route comes from in the request and what is set or learned from the
// response. The binding itself lives in package upstream.
type stickyWire struct {
	g      *upstream.Group
	spec   *upstream.StickySpec
	route  func(c *reqCtx) string
	create []*expr
}

func newStickyWire(g *upstream.Group, sc *varScope) (*stickyWire, error) {
	spec := g.Spec().Sticky
	if spec == nil {
		return nil, nil
	}
	w := &stickyWire{g: g, spec: spec}
	switch spec.Mode {
	case "cookie":
		name := spec.CookieName
		w.route = func(c *reqCtx) string { return cookieValue(c.r, name) }
	case "route", "learn":
		vars := spec.RouteVars
		if spec.Mode == "learn" {
			vars = spec.Lookup
		}
		var es []*expr
		for _, v := range vars {
			e, err := compileExpr(v, sc)
			if err != nil {
				return nil, err
			}
			es = append(es, e)
		}
		w.route = func(c *reqCtx) string {
			for _, e := range es {
				if v := e.String(c); v != "" {
					return v
				}
			}
			return ""
		}
		for _, v := range spec.Create {
			e, err := compileExpr(v, sc)
			if err != nil {
				return nil, err
			}
			w.create = append(w.create, e)
		}
	}
	return w, nil
}

// after sets the sticky cookie for the server that answered, or teaches
// the learn table the session the response created or the request used.
func (w *stickyWire) after(c *reqCtx, resp *http.Response, peer *upstream.Peer, route string) {
	if peer == nil {
		return
	}
	switch w.spec.Mode {
	case "cookie":
		if route == peer.StickyID() {
			return
		}
		c.w.Header().Add("Set-Cookie", w.cookie(peer.StickyID()))
	case "learn":
		for _, e := range w.create {
			if v := e.String(c); v != "" {
				w.g.Learn(peer, v, true)
				return
			}
		}
		if route != "" {
			w.g.Learn(peer, route, false)
		}
	}
}

func (w *stickyWire) cookie(sid string) string {
	s := w.spec
	var b strings.Builder
	b.WriteString(s.CookieName + "=" + sid)
	switch {
	case s.Expires < 0:
		b.WriteString("; expires=Thu, 31-Dec-37 23:55:55 GMT; max-age=315360000")
	case s.Expires > 0:
		b.WriteString("; expires=" + time.Now().Add(s.Expires).UTC().Format(http.TimeFormat))
		b.WriteString("; max-age=" + itoa(int64(s.Expires/time.Second)))
	}
	if s.Domain != "" {
		b.WriteString("; domain=" + s.Domain)
	}
	if s.Path != "" {
		b.WriteString("; path=" + s.Path)
	}
	if s.HTTPOnly {
		b.WriteString("; httponly")
	}
	if s.Secure {
		b.WriteString("; secure")
	}
	if s.SameSite != "" {
		b.WriteString("; samesite=" + s.SameSite)
	}
	return b.String()
}
