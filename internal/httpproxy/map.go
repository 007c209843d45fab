package httpproxy

import (
	"fmt"
	"regexp"
	"strings"

	"bunsan/internal/config"
)

// mapVar is a variable defined by map: its value is looked up from the
// source expression on first use in a request and kept for the rest of
// it, as nginx evaluates map lazily.
type mapVar struct {
	slot    int
	src     *expr
	exact   map[string]*expr
	regexes []mapRegex
	def     *expr
	fold    bool
}

type mapRegex struct {
	re  *regexp.Regexp
	val *expr
}

func (m *mapVar) get(c *reqCtx, dst []byte) []byte {
	if m.slot < len(c.ok) && c.ok[m.slot] {
		return append(dst, c.vals[m.slot]...)
	}
	v := m.resolve(c)
	if m.slot < len(c.ok) {
		c.vals[m.slot], c.ok[m.slot] = v, true
	}
	return append(dst, v...)
}

// resolve applies nginx's order: exact key, then regexes in order, then
// the default ("" when none is given).
func (m *mapVar) resolve(c *reqCtx) string {
	orig := m.src.String(c)
	key := orig
	if m.fold {
		key = strings.ToLower(key)
	}
	if e, ok := m.exact[key]; ok {
		return e.String(c)
	}
	for _, r := range m.regexes {
		if r.re.MatchString(orig) {
			return r.val.String(c)
		}
	}
	if m.def != nil {
		return m.def.String(c)
	}
	return ""
}

// compileMap fills m from its configuration. Keys are matched ignoring
// case, as nginx does for map strings.
func compileMap(m *mapVar, cm *config.HTTPMap, sc *varScope) error {
	at := func(err error) error { return fmt.Errorf("%s:%d: map: %w", cm.Pos.File, cm.Pos.Line, err) }
	var err error
	if m.src, err = compileExpr(cm.Source, sc); err != nil {
		return at(err)
	}
	m.exact = map[string]*expr{}
	for _, e := range cm.Entries {
		val, err := compileExpr(e.Value, sc)
		if err != nil {
			return at(err)
		}
		if !e.Regex {
			if _, dup := m.exact[e.Key]; !dup {
				m.exact[e.Key] = val
			}
			continue
		}
		pat := e.Key
		if e.Fold {
			pat = "(?i)" + pat
		}
		re, err := regexp.Compile(pat)
		if err != nil {
			return at(err)
		}
		m.regexes = append(m.regexes, mapRegex{re: re, val: val})
	}
	if cm.HasDefault {
		if m.def, err = compileExpr(cm.Default, sc); err != nil {
			return at(err)
		}
	}
	m.fold = true
	return nil
}
