package httpproxy

import (
	"fmt"
	"strconv"
	"strings"
)

// expr is a string with $variables, compiled once at load into parts so
// that evaluating it per request does no parsing.
type expr struct {
	parts []part
	// static is set when the expression holds no variables.
	static bool
}

type part struct {
	lit string
	// get, when set, evaluates a variable; lit is then unused.
	get getter
}

// getter appends a variable's value for one request to dst.
type getter func(c *reqCtx, dst []byte) []byte

// compileExpr splits text into literals and variables. Unknown variables
// are an error naming them, so typos fail at load, not per request.
func compileExpr(text string, sc *varScope) (*expr, error) {
	e := &expr{static: true}
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
		get, err := sc.lookup(name)
		if err != nil {
			return nil, err
		}
		e.parts = append(e.parts, part{get: get})
		e.static = false
	}
	return e, nil
}

func isVarChar(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// eval appends the expression's value for c to dst.
func (e *expr) eval(c *reqCtx, dst []byte) []byte {
	for _, p := range e.parts {
		if p.get != nil {
			dst = p.get(c, dst)
		} else {
			dst = append(dst, p.lit...)
		}
	}
	return dst
}

// String evaluates to a string; a static expression costs no allocation.
func (e *expr) String(c *reqCtx) string {
	if e.static {
		if len(e.parts) == 0 {
			return ""
		}
		return e.parts[0].lit
	}
	return string(e.eval(c, nil))
}

// varScope is the set of variables a configuration can name: the built-in
// ones plus those that set and map define. Names defined by set get a
// slot in reqCtx.vals; map variables are computed on first use.
type varScope struct {
	slots    map[string]int
	maps     map[string]*mapVar
	captures map[string]bool // named regex groups
	// connectTime records that $upstream_connect_time is used somewhere:
	// only then does the proxy trace connection set-up (it costs
	// allocations per attempt).
	connectTime bool
}

func newVarScope() *varScope {
	return &varScope{slots: map[string]int{}, maps: map[string]*mapVar{}, captures: map[string]bool{}}
}

// slot returns the slot of a user variable, making one if needed.
func (sc *varScope) slot(name string) int {
	if i, ok := sc.slots[name]; ok {
		return i
	}
	i := len(sc.slots)
	sc.slots[name] = i
	return i
}

func (sc *varScope) lookup(name string) (getter, error) {
	if sc != nil {
		if m, ok := sc.maps[name]; ok {
			return m.get, nil
		}
		if i, ok := sc.slots[name]; ok {
			return func(c *reqCtx, dst []byte) []byte {
				if i < len(c.vals) {
					dst = append(dst, c.vals[i]...)
				}
				return dst
			}, nil
		}
	}
	if sc != nil && sc.captures[name] {
		return func(c *reqCtx, dst []byte) []byte {
			if c.capRe != nil {
				if i := c.capRe.SubexpIndex(name); i > 0 && i < len(c.caps) {
					return append(dst, c.caps[i]...)
				}
			}
			if c.srvRe != nil {
				if i := c.srvRe.SubexpIndex(name); i > 0 && i < len(c.srvCaps) {
					dst = append(dst, c.srvCaps[i]...)
				}
			}
			return dst
		}, nil
	}
	if n, err := strconv.Atoi(name); err == nil && n >= 0 && n <= 9 {
		return func(c *reqCtx, dst []byte) []byte {
			if n < len(c.caps) {
				dst = append(dst, c.caps[n]...)
			}
			return dst
		}, nil
	}
	if g := builtin(name); g != nil {
		if name == "upstream_connect_time" && sc != nil {
			sc.connectTime = true
		}
		return g, nil
	}
	return nil, fmt.Errorf("unknown %q variable", "$"+name)
}

// hostOnly strips a port from a Host header and lower-cases it, as nginx's
// $host does.
func hostOnly(h string) string {
	if i := strings.LastIndexByte(h, ':'); i >= 0 && !strings.HasSuffix(h, "]") {
		h = h[:i]
	}
	h = strings.TrimSuffix(h, ".")
	for i := 0; i < len(h); i++ {
		if c := h[i]; c >= 'A' && c <= 'Z' {
			return strings.ToLower(h)
		}
	}
	return h
}
