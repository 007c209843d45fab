package tlsconf

import (
	"fmt"
	"regexp"
	"strings"
)

// names finds the site for a TLS server name with nginx's server_name
// precedence: exact name, longest leading wildcard ("*.example.com",
// ".example.com"), longest trailing wildcard ("www.example.*"), then the
// first regular expression that matches, in the order written.
type names struct {
	exact    map[string]int
	leading  []wildcard // "*.example.com" stored as ".example.com"
	trailing []wildcard // "www.example.*" stored as "www.example."
	regexps  []nameRegexp
}

type wildcard struct {
	suffix string
	site   int
}

type nameRegexp struct {
	re   *regexp.Regexp
	site int
}

// add indexes site's server_name values. The first site to claim a name
// keeps it, as nginx does (it warns about the duplicate; the HTTP side
// reports that).
func (n *names) add(site int, list []string) error {
	if n.exact == nil {
		n.exact = map[string]int{}
	}
	for _, name := range list {
		switch {
		case strings.HasPrefix(name, "~"):
			re, err := regexp.Compile("(?i)" + name[1:])
			if err != nil {
				return fmt.Errorf("invalid server_name regular expression %q: %v", name, err)
			}
			n.regexps = append(n.regexps, nameRegexp{re, site})
		case strings.HasPrefix(name, "*."):
			n.leading = append(n.leading, wildcard{strings.ToLower(name[1:]), site})
		case strings.HasPrefix(name, "."):
			n.leading = append(n.leading, wildcard{strings.ToLower(name), site})
			n.addExact(strings.ToLower(name[1:]), site)
		case strings.HasSuffix(name, ".*"):
			n.trailing = append(n.trailing, wildcard{strings.ToLower(name[:len(name)-1]), site})
		case name == "" || name == "_":
			// Matches no SNI name; "_" is only a placeholder.
		default:
			n.addExact(strings.ToLower(name), site)
		}
	}
	return nil
}

func (n *names) addExact(name string, site int) {
	if _, dup := n.exact[name]; !dup {
		n.exact[name] = site
	}
}

// lookup returns the site for host, or -1.
func (n *names) lookup(host string) int {
	if host == "" {
		return -1
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if s, ok := n.exact[host]; ok {
		return s
	}
	best, bestLen := -1, 0
	for _, w := range n.leading {
		if strings.HasSuffix(host, w.suffix) && len(w.suffix) > bestLen {
			best, bestLen = w.site, len(w.suffix)
		}
	}
	if best >= 0 {
		return best
	}
	for _, w := range n.trailing {
		if strings.HasPrefix(host, w.suffix) && len(w.suffix) > bestLen {
			best, bestLen = w.site, len(w.suffix)
		}
	}
	if best >= 0 {
		return best
	}
	for _, r := range n.regexps {
		if r.re.MatchString(host) {
			return r.site
		}
	}
	return -1
}
