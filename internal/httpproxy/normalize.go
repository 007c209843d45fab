package httpproxy

import "strings"

// normalizePath turns a decoded request path into the form locations are
// matched on, as ngx_http_parse_complex_uri does: "//" merged, "/./"
// dropped, "/../" removing the segment before it. A path that climbs
// above the root is refused (ok false → 400), so "/x/../admin" and
// "/%2e%2e/admin" meet the same location as "/admin". net/http has
// already percent-decoded the path.
func normalizePath(p string) (string, bool) {
	if p == "" || p[0] != '/' {
		if p == "*" {
			return p, true
		}
		return "", false
	}
	if !needsNormalizing(p) {
		return p, true
	}
	segs := make([]string, 0, 8)
	trailing := strings.HasSuffix(p, "/") || strings.HasSuffix(p, "/.") || strings.HasSuffix(p, "/..")
	for _, s := range strings.Split(p[1:], "/") {
		switch s {
		case "", ".":
		case "..":
			if len(segs) == 0 {
				return "", false
			}
			segs = segs[:len(segs)-1]
		default:
			segs = append(segs, s)
		}
	}
	out := "/" + strings.Join(segs, "/")
	if trailing && out != "/" {
		out += "/"
	}
	return out, true
}

func needsNormalizing(p string) bool {
	return strings.Contains(p, "//") || strings.Contains(p, "/./") || strings.Contains(p, "/../") ||
		strings.HasSuffix(p, "/.") || strings.HasSuffix(p, "/..")
}
