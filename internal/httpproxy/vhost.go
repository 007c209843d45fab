package httpproxy

import (
	"fmt"
	"regexp"
	"strings"
)

// vhosts chooses the virtual server for one listening address by the
// request's host name, in nginx's order: exact name, longest wildcard
// starting with "*", longest wildcard ending with "*", first matching
// regular expression, then the default server.
type vhosts struct {
	exact    map[string]*vserver
	prefixes []wildcard // "*.example.com" → suffix ".example.com"
	suffixes []wildcard // "www.example.*" → prefix "www.example."
	regexes  []namedRegex
	def      *vserver
}

type wildcard struct {
	part string
	srv  *vserver
}

type namedRegex struct {
	re  *regexp.Regexp
	srv *vserver
}

func newVhosts() *vhosts { return &vhosts{exact: map[string]*vserver{}} }

// add registers srv under its names. The first server added is the
// default unless one says default_server.
func (v *vhosts) add(srv *vserver, names []string, isDefault bool) error {
	if v.def == nil || isDefault {
		v.def = srv
	}
	for _, n := range names {
		switch {
		case n == "" || n == "_":
			// Matches no Host; such a server is reached as the default.
		case strings.HasPrefix(n, "~"):
			re, err := regexp.Compile(n[1:])
			if err != nil {
				return fmt.Errorf("invalid server_name regex %q: %v", n, err)
			}
			v.regexes = append(v.regexes, namedRegex{re, srv})
		case strings.HasPrefix(n, "*."):
			v.prefixes = append(v.prefixes, wildcard{n[1:], srv})
		case strings.HasPrefix(n, "."):
			// ".example.com" is both "example.com" and "*.example.com".
			v.setExact(n[1:], srv)
			v.prefixes = append(v.prefixes, wildcard{n, srv})
		case strings.HasSuffix(n, ".*"):
			v.suffixes = append(v.suffixes, wildcard{n[:len(n)-1], srv})
		default:
			v.setExact(n, srv)
		}
	}
	return nil
}

// setExact keeps the first server for a duplicate name, as nginx does
// (with a warning there).
func (v *vhosts) setExact(n string, srv *vserver) {
	if _, ok := v.exact[n]; !ok {
		v.exact[n] = srv
	}
}

// find returns the server for host and, when a server_name regex chose
// it, the regex's captures ($1… and named groups).
func (v *vhosts) find(host string) (*vserver, []string, *regexp.Regexp) {
	if s, ok := v.exact[host]; ok {
		return s, nil, nil
	}
	var best *vserver
	bestLen := 0
	for _, w := range v.prefixes {
		if strings.HasSuffix(host, w.part) && len(w.part) > bestLen {
			best, bestLen = w.srv, len(w.part)
		}
	}
	if best != nil {
		return best, nil, nil
	}
	for _, w := range v.suffixes {
		if strings.HasPrefix(host, w.part) && len(w.part) > bestLen {
			best, bestLen = w.srv, len(w.part)
		}
	}
	if best != nil {
		return best, nil, nil
	}
	for _, r := range v.regexes {
		if caps := r.re.FindStringSubmatch(host); caps != nil {
			return r.srv, caps, r.re
		}
	}
	return v.def, nil, nil
}
