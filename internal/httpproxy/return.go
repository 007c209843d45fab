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

func newReturnHandler(r *config.Return) (handler, error) {
	e, err := compileExpr(r.Text)
	if err != nil {
		return nil, err
	}
	return &returnHandler{code: r.Code, text: e}, nil
}

func (h *returnHandler) serve(w http.ResponseWriter, r *http.Request, _ *location) {
	text := string(h.text.eval(r, nil))
	switch h.code {
	case 301, 302, 303, 307, 308:
		w.Header().Set("Location", text)
		writeError(w, h.code)
	default:
		if text == "" && h.code >= 400 {
			writeError(w, h.code)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Content-Length", strconv.Itoa(len(text)))
		w.WriteHeader(h.code)
		_, _ = w.Write([]byte(text))
	}
}
