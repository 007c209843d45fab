package httpproxy

import (
	"regexp"
	"strconv"
	"strings"

	"bunsan/internal/config"
)

// redirect is one proxy_redirect rule: a prefix (or regex) of the
// backend's Location replaced by a replacement that may hold variables.
type redirect struct {
	from string
	re   *regexp.Regexp
	to   *expr
}

// compileRedirects builds proxy_redirect's rules. Without the directive
// (or with "default") the rule is nginx's default: the proxy_pass URL
// replaced by the location's prefix.
func compileRedirects(lc *config.Location, sc *varScope) ([]redirect, error) {
	p := &lc.Proxy
	if p.RedirectOff || p.Pass == nil {
		return nil, nil
	}
	rules := p.Redirects
	if len(rules) == 0 {
		rules = []config.Redirect{{From: "default"}}
	}
	var out []redirect
	for _, r := range rules {
		if r.From == "default" {
			if p.Pass.HasURI && !strings.Contains(p.Pass.Raw, "$") && lc.Modifier != config.LocRegex && lc.Modifier != config.LocRegexCI {
				to, _ := compileExpr(lc.Path, nil)
				out = append(out, redirect{from: p.Pass.Raw, to: to})
			}
			continue
		}
		text := r.To
		if strings.HasPrefix(r.From, "~") {
			// $1…$9 refer to this regex, not to the location's: keep
			// them out of the variable compiler.
			for d := '1'; d <= '9'; d++ {
				text = strings.ReplaceAll(text, "$"+string(d), "\x00"+string(d))
			}
		}
		to, err := compileExpr(text, sc)
		if err != nil {
			return nil, err
		}
		rd := redirect{from: r.From, to: to}
		if strings.HasPrefix(r.From, "~") {
			pat := r.From[1:]
			if strings.HasPrefix(pat, "*") {
				pat = "(?i)" + pat[1:]
			}
			if rd.re, err = regexp.Compile(pat); err != nil {
				return nil, err
			}
		}
		out = append(out, rd)
	}
	return out, nil
}

// rewriteRedirect applies the first matching rule to a Location or
// Refresh value.
func (h *proxyHandler) rewriteRedirect(c *reqCtx, v string) string {
	for _, r := range h.redirects {
		if r.re != nil {
			if m := r.re.FindStringSubmatchIndex(v); m != nil {
				// The whole value is replaced, as nginx does for a regex
				// rule; $1… refer to this regex's groups.
				to := strings.ReplaceAll(r.to.String(c), "$", "$$")
				for d := '1'; d <= '9'; d++ {
					to = strings.ReplaceAll(to, "\x00"+string(d), "${"+string(d)+"}")
				}
				return string(r.re.ExpandString(nil, to, v, m))
			}
			continue
		}
		if strings.HasPrefix(v, r.from) {
			return r.to.String(c) + v[len(r.from):]
		}
	}
	return v
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
