package httpproxy

import (
	"fmt"
	"net"
	"net/http"
	"strings"
)

// expr is a string with $variables, compiled once at load into parts so
// that evaluating it per request does no parsing.
type expr struct {
	parts []part
}

type part struct {
	lit string
	// get, when set, evaluates a variable; lit is then unused.
	get func(r *http.Request, dst []byte) []byte
}

// compileExpr splits text into literals and variables. Unknown variables
// are an error naming them, so typos fail at load, not per request.
func compileExpr(text string) (*expr, error) {
	e := &expr{}
	for len(text) > 0 {
		i := strings.IndexByte(text, '$')
		if i < 0 {
			e.parts = append(e.parts, part{lit: text})
			break
		}
		if i > 0 {
			e.parts = append(e.parts, part{lit: text[:i]})
		}
		text = text[i+1:]
		var name string
		if strings.HasPrefix(text, "{") {
			end := strings.IndexByte(text, '}')
			if end < 0 {
				return nil, fmt.Errorf("the closing bracket in %q variable is missing", text)
			}
			name, text = text[1:end], text[end+1:]
		} else {
			n := 0
			for n < len(text) && isVarChar(text[n]) {
				n++
			}
			name, text = text[:n], text[n:]
		}
		if name == "" {
			return nil, fmt.Errorf("invalid variable name: \"$\" must be followed by a name")
		}
		get, err := variable(name)
		if err != nil {
			return nil, err
		}
		e.parts = append(e.parts, part{get: get})
	}
	return e, nil
}

func isVarChar(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// eval appends the expression's value for r to dst.
func (e *expr) eval(r *http.Request, dst []byte) []byte {
	for _, p := range e.parts {
		if p.get != nil {
			dst = p.get(r, dst)
		} else {
			dst = append(dst, p.lit...)
		}
	}
	return dst
}

// variable returns the evaluator for one of the variables this foundation
// supports; the HTTP proxy issue extends the list.
func variable(name string) (func(r *http.Request, dst []byte) []byte, error) {
	switch {
	case strings.HasPrefix(name, "http_"):
		h := http.CanonicalHeaderKey(strings.ReplaceAll(name[5:], "_", "-"))
		return func(r *http.Request, dst []byte) []byte { return append(dst, r.Header.Get(h)...) }, nil
	case strings.HasPrefix(name, "arg_"):
		a := name[4:]
		return func(r *http.Request, dst []byte) []byte { return append(dst, r.URL.Query().Get(a)...) }, nil
	case strings.HasPrefix(name, "cookie_"):
		c := name[7:]
		return func(r *http.Request, dst []byte) []byte {
			if ck, err := r.Cookie(c); err == nil {
				dst = append(dst, ck.Value...)
			}
			return dst
		}, nil
	}
	switch name {
	case "remote_addr":
		return func(r *http.Request, dst []byte) []byte {
			host, _, _ := net.SplitHostPort(r.RemoteAddr)
			return append(dst, host...)
		}, nil
	case "host":
		return func(r *http.Request, dst []byte) []byte { return append(dst, hostOnly(r.Host)...) }, nil
	case "request_uri":
		return func(r *http.Request, dst []byte) []byte { return append(dst, r.RequestURI...) }, nil
	case "uri":
		return func(r *http.Request, dst []byte) []byte { return append(dst, r.URL.Path...) }, nil
	case "args", "query_string":
		return func(r *http.Request, dst []byte) []byte { return append(dst, r.URL.RawQuery...) }, nil
	case "request_method":
		return func(r *http.Request, dst []byte) []byte { return append(dst, r.Method...) }, nil
	case "scheme":
		return func(r *http.Request, dst []byte) []byte {
			if r.TLS != nil {
				return append(dst, "https"...)
			}
			return append(dst, "http"...)
		}, nil
	}
	return nil, fmt.Errorf("unknown %q variable", "$"+name)
}

// hostOnly strips a port from a Host header and lower-cases it, as nginx's
// $host does.
func hostOnly(h string) string {
	if i := strings.LastIndexByte(h, ':'); i >= 0 && !strings.HasSuffix(h, "]") {
		h = h[:i]
	}
	return strings.ToLower(strings.TrimSuffix(h, "."))
}
