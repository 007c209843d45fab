package httpproxy

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"bunsan/internal/config"
)

// locations is one level of location blocks, arranged for nginx's search:
// exact matches, prefixes (longest wins; "^~" stops the regex search),
// then regular expressions in the order written.
type locations struct {
	exact    map[string]*location
	prefixes []*location // sorted longest first
	regexes  []*location
}

// location is one location block, compiled: its handler and the phases
// that run before it (access, set) and after it (add_header, error_page).
type location struct {
	cfg        *config.Location
	re         *regexp.Regexp
	children   *locations
	handler    handler
	rewrite    []rewriteOp
	access     accessList
	addHdrs    []addHeader
	errorPages map[int]*errorPage
	logs       []logTarget
	realIP     *realIP
	// bodyTimeout is client_body_timeout.
	bodyTimeout time.Duration
}

// buildLocations compiles one level of locations and their children.
func buildLocations(cfgs []*config.Location, build func(*config.Location) (*location, error)) (*locations, error) {
	ls := &locations{exact: map[string]*location{}}
	for _, c := range cfgs {
		if c.Modifier == config.LocNamed {
			continue // reached only by name (error_page)
		}
		loc, err := build(c)
		if err != nil {
			return nil, err
		}
		if len(c.Locations) > 0 {
			if loc.children, err = buildLocations(c.Locations, build); err != nil {
				return nil, err
			}
		}
		switch c.Modifier {
		case config.LocExact:
			ls.exact[c.Path] = loc
		case config.LocRegex, config.LocRegexCI:
			pat := c.Path
			if c.Modifier == config.LocRegexCI {
				pat = "(?i)" + pat
			}
			if loc.re, err = regexp.Compile(pat); err != nil {
				return nil, fmt.Errorf("%s:%d: invalid regular expression %q: %v", c.Pos.File, c.Pos.Line, c.Path, err)
			}
			ls.regexes = append(ls.regexes, loc)
		default:
			ls.prefixes = append(ls.prefixes, loc)
		}
	}
	// Longest prefix first, so the first match is the longest.
	for i := 1; i < len(ls.prefixes); i++ {
		for j := i; j > 0 && len(ls.prefixes[j].cfg.Path) > len(ls.prefixes[j-1].cfg.Path); j-- {
			ls.prefixes[j], ls.prefixes[j-1] = ls.prefixes[j-1], ls.prefixes[j]
		}
	}
	return ls, nil
}

// buildLocation compiles one location's own phases and handler.
func (s *Snapshot) buildLocation(lc *config.Location) (*location, error) {
	loc := &location{cfg: lc}
	var err error
	if loc.handler, err = s.buildHandler(lc); err != nil {
		return nil, err
	}
	if loc.rewrite, err = compileRewrite(lc.Rewrite, s.vars); err != nil {
		return nil, err
	}
	if loc.access, err = newAccessList(lc.Settings.Access); err != nil {
		return nil, err
	}
	if loc.addHdrs, err = compileAddHeaders(lc.Settings.AddHeaders, s.vars); err != nil {
		return nil, fmt.Errorf("%s:%d: add_header: %w", lc.Pos.File, lc.Pos.Line, err)
	}
	if loc.errorPages, err = compileErrorPages(lc.Settings.ErrorPages, s.vars); err != nil {
		return nil, fmt.Errorf("%s:%d: error_page: %w", lc.Pos.File, lc.Pos.Line, err)
	}
	loc.realIP = newRealIP(&lc.Settings)
	loc.bodyTimeout = lc.Settings.ClientBodyTimeout
	if loc.logs, err = s.logs.targetsFor(&lc.Settings); err != nil {
		return nil, fmt.Errorf("%s:%d: %w", lc.Pos.File, lc.Pos.Line, err)
	}
	return loc, nil
}

// match finds the location for path, as ngx_http_core_find_location does:
// an exact match ends the search; otherwise the longest prefix is
// remembered, its nested locations searched, and unless it is "^~" the
// regexes of this level are tried in order before falling back to it.
// It returns the captures when a regex location matched.
func (ls *locations) match(path string) (*location, []string) {
	if ls == nil {
		return nil, nil
	}
	if l, ok := ls.exact[path]; ok {
		return l, nil
	}
	var prefix *location
	for _, l := range ls.prefixes {
		if strings.HasPrefix(path, l.cfg.Path) {
			prefix = l
			break
		}
	}
	if prefix != nil && prefix.children != nil {
		if l, caps := prefix.children.match(path); l != nil {
			return l, caps
		}
	}
	if prefix != nil && prefix.cfg.Modifier == config.LocNoRegex {
		return prefix, nil
	}
	for _, l := range ls.regexes {
		if caps := l.re.FindStringSubmatch(path); caps != nil {
			if l.children != nil {
				if sub, subCaps := l.children.match(path); sub != nil {
					if subCaps == nil {
						subCaps = caps
					}
					return sub, subCaps
				}
			}
			return l, caps
		}
	}
	return prefix, nil
}
