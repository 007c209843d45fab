package stream

import (
	"fmt"
	"regexp"
	"strings"

	"bunsan/internal/config"
)

// mapVar is a compiled map block (nginx's ngx_stream_map_module): the
// value of the source is looked up exactly (ignoring case), then, with
// "hostnames", among the wildcard names (longest match first), then in
// the regular expressions in order; otherwise the default.
type mapVar struct {
	name      string
	src       *template
	exact     map[string]*template
	front     []wildEntry // "*.example.com" and ".example.com"
	back      []wildEntry // "www.example.*"
	regex     []regexEntry
	def       *template
	hostnames bool
	// set marks a variable of the set directive rather than a map: its
	// value is the session's server's template for it.
	set bool
}

type wildEntry struct {
	suffix string // for front: ".example.com"; for back: "www.example."
	bare   bool   // ".example.com" also matches "example.com"
	val    *template
}

type regexEntry struct {
	re  *regexp.Regexp
	val *template
}

// compileMaps builds every map of the stream block. Maps may refer to
// each other in any order, so all are allocated before any is compiled.
func compileMaps(st *config.Stream) (map[string]*mapVar, error) {
	maps := map[string]*mapVar{}
	for _, m := range st.Maps {
		maps[m.Var] = &mapVar{name: m.Var, hostnames: m.Hostnames, exact: map[string]*template{}}
	}
	for _, srv := range st.Servers {
		for _, sv := range srv.Proxy.Sets {
			if m := maps[sv.Var]; m != nil && !m.set {
				return nil, fmt.Errorf("$%s is set by both a map and a set directive", sv.Var)
			}
			maps[sv.Var] = &mapVar{name: sv.Var, set: true}
		}
	}
	for _, m := range st.Maps {
		mv := maps[m.Var]
		var err error
		if mv.src, err = compile(m.Source, maps); err != nil {
			return nil, fmt.Errorf("map $%s: %w", m.Var, err)
		}
		if mv.def, err = compile(m.Default, maps); err != nil {
			return nil, fmt.Errorf("map $%s: %w", m.Var, err)
		}
		for _, e := range m.Entries {
			val, err := compile(e.Value, maps)
			if err != nil {
				return nil, fmt.Errorf("map $%s: %w", m.Var, err)
			}
			switch {
			case e.Regex:
				expr := e.Key
				if e.Fold {
					expr = "(?i)" + expr
				}
				re, err := regexp.Compile(expr)
				if err != nil {
					return nil, fmt.Errorf("map $%s: %w", m.Var, err)
				}
				mv.regex = append(mv.regex, regexEntry{re: re, val: val})
			case m.Hostnames && strings.HasPrefix(e.Key, "*."):
				mv.front = append(mv.front, wildEntry{suffix: e.Key[1:], val: val})
			case m.Hostnames && strings.HasPrefix(e.Key, "."):
				mv.front = append(mv.front, wildEntry{suffix: e.Key, bare: true, val: val})
			case m.Hostnames && strings.HasSuffix(e.Key, ".*"):
				mv.back = append(mv.back, wildEntry{suffix: e.Key[:len(e.Key)-1], val: val})
			default:
				if _, dup := mv.exact[e.Key]; !dup { // the first one wins
					mv.exact[e.Key] = val
				}
			}
		}
	}
	return maps, nil
}

// eval appends the map's value for s to b.
func (m *mapVar) eval(s *session, b []byte, depth int) []byte {
	if m.set {
		if t := s.sets[m.name]; t != nil {
			return t.evalDepth(s, b, depth)
		}
		return b // not set in this server: empty, as in nginx
	}
	var kb [128]byte
	key := string(m.src.evalDepth(s, kb[:0], depth))
	if v := m.lookup(key); v != nil {
		return v.evalDepth(s, b, depth)
	}
	return m.def.evalDepth(s, b, depth)
}

// lookup finds the entry for a source value: strings ignore case,
// regular expressions see the value as it is.
func (m *mapVar) lookup(raw string) *template {
	key := strings.ToLower(raw)
	if m.hostnames {
		key = strings.TrimSuffix(key, ".")
	}
	if v, ok := m.exact[key]; ok {
		return v
	}
	if m.hostnames {
		var best *wildEntry
		for i := range m.front {
			w := &m.front[i]
			if (strings.HasSuffix(key, w.suffix) || (w.bare && key == w.suffix[1:])) &&
				(best == nil || len(w.suffix) > len(best.suffix)) {
				best = w
			}
		}
		if best == nil {
			for i := range m.back {
				w := &m.back[i]
				if strings.HasPrefix(key, w.suffix) && (best == nil || len(w.suffix) > len(best.suffix)) {
					best = w
				}
			}
		}
		if best != nil {
			return best.val
		}
	}
	for _, r := range m.regex {
		if r.re.MatchString(raw) {
			return r.val
		}
	}
	return nil
}
