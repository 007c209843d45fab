package httpproxy

import (
	"net/http"
	"strconv"

	"bunsan/internal/config"
)

// returnHandler is the return directive: a fixed status with a body, or a
// redirect to a URL, both of which may hold variables.
type returnHandler struct {
	code int
	text *expr
}

func newReturnHandler(r *config.Return, sc *varScope) (handler, error) {
	e, err := compileExpr(r.Text, sc)
	if err != nil {
		return nil, err
	}
	return &returnHandler{code: r.Code, text: e}, nil
}

func (h *returnHandler) serve(c *reqCtx, loc *location) {
	text := h.text.String(c)
	switch h.code {
	case 301, 302, 303, 307, 308:
		c.w.Header().Set("Location", text)
		loc.addHeaders(c, h.code)
		writeError(c.w, h.code)
	default:
		if text == "" && h.code >= 400 {
			c.errorPage(loc, h.code)
			return
		}
		loc.addHeaders(c, h.code)
		c.w.Header().Set("Content-Type", "text/plain")
		c.w.Header().Set("Content-Length", strconv.Itoa(len(text)))
		c.w.WriteHeader(h.code)
		_, _ = c.w.Write([]byte(text))
	}
}

var _ http.Handler = (*Router)(nil)
