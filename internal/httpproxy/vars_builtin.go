package httpproxy

import (
	"net"
	"net/http"
	"net/netip"
	"net/textproto"
	"strconv"
	"strings"
	"time"
)

// builtin returns the evaluator of one of nginx's variables, or nil.
func builtin(name string) getter {
	switch {
	case strings.HasPrefix(name, "http_"):
		h := textproto.CanonicalMIMEHeaderKey(strings.ReplaceAll(name[5:], "_", "-"))
		return func(c *reqCtx, dst []byte) []byte {
			// nginx joins repeated headers; cookies with "; ", others ", ".
			vv := c.r.Header[h]
			sep := ", "
			if h == "Cookie" {
				sep = "; "
			}
			for i, v := range vv {
				if i > 0 {
					dst = append(dst, sep...)
				}
				dst = append(dst, v...)
			}
			if h == "Host" && len(vv) == 0 {
				dst = append(dst, c.r.Host...)
			}
			return dst
		}
	case strings.HasPrefix(name, "sent_http_"):
		h := textproto.CanonicalMIMEHeaderKey(strings.ReplaceAll(name[10:], "_", "-"))
		return func(c *reqCtx, dst []byte) []byte { return append(dst, c.w.Header().Get(h)...) }
	case strings.HasPrefix(name, "upstream_http_"):
		h := textproto.CanonicalMIMEHeaderKey(strings.ReplaceAll(name[14:], "_", "-"))
		return func(c *reqCtx, dst []byte) []byte { return append(dst, c.upHeader.Get(h)...) }
	case strings.HasPrefix(name, "upstream_cookie_"):
		ck := name[16:]
		return func(c *reqCtx, dst []byte) []byte {
			for _, sc := range c.upHeader["Set-Cookie"] {
				kv, _, _ := strings.Cut(sc, ";")
				if k, v, ok := strings.Cut(strings.TrimSpace(kv), "="); ok && k == ck {
					return append(dst, v...)
				}
			}
			return dst
		}
	case strings.HasPrefix(name, "arg_"):
		a := name[4:]
		return func(c *reqCtx, dst []byte) []byte { return append(dst, argValue(c.r.URL.RawQuery, a)...) }
	case strings.HasPrefix(name, "cookie_"):
		ck := name[7:]
		return func(c *reqCtx, dst []byte) []byte { return append(dst, cookieValue(c.r, ck)...) }
	}
	if g, ok := builtins[name]; ok {
		return g
	}
	return tlsVariable(name)
}

var builtins = map[string]getter{
	"remote_addr": func(c *reqCtx, dst []byte) []byte { return append(dst, remoteHost(c.r)...) },
	"remote_port": func(c *reqCtx, dst []byte) []byte {
		_, port, _ := net.SplitHostPort(c.r.RemoteAddr)
		return append(dst, port...)
	},
	"binary_remote_addr": func(c *reqCtx, dst []byte) []byte {
		a, err := netip.ParseAddr(remoteHost(c.r))
		if err != nil {
			return dst
		}
		return append(dst, a.Unmap().AsSlice()...)
	},
	"host": func(c *reqCtx, dst []byte) []byte {
		if c.r.Host == "" && c.srv != nil && len(c.srv.cfg.Names) > 0 {
			return append(dst, c.srv.cfg.Names[0]...)
		}
		return append(dst, hostOnly(c.r.Host)...)
	},
	"request_uri":  func(c *reqCtx, dst []byte) []byte { return append(dst, c.r.RequestURI...) },
	"uri":          func(c *reqCtx, dst []byte) []byte { return append(dst, c.uri...) },
	"document_uri": func(c *reqCtx, dst []byte) []byte { return append(dst, c.uri...) },
	"args":         func(c *reqCtx, dst []byte) []byte { return append(dst, c.r.URL.RawQuery...) },
	"query_string": func(c *reqCtx, dst []byte) []byte { return append(dst, c.r.URL.RawQuery...) },
	"is_args": func(c *reqCtx, dst []byte) []byte {
		if c.r.URL.RawQuery != "" {
			dst = append(dst, '?')
		}
		return dst
	},
	"request_method": func(c *reqCtx, dst []byte) []byte { return append(dst, c.r.Method...) },
	"request": func(c *reqCtx, dst []byte) []byte {
		return append(append(append(append(append(dst, c.r.Method...), ' '), c.r.RequestURI...), ' '), c.r.Proto...)
	},
	"server_protocol": func(c *reqCtx, dst []byte) []byte { return append(dst, c.r.Proto...) },
	"scheme": func(c *reqCtx, dst []byte) []byte {
		if c.r.TLS != nil {
			return append(dst, "https"...)
		}
		return append(dst, "http"...)
	},
	"server_name": func(c *reqCtx, dst []byte) []byte {
		if c.srv != nil && len(c.srv.cfg.Names) > 0 {
			dst = append(dst, c.srv.cfg.Names[0]...)
		}
		return dst
	},
	"server_addr": func(c *reqCtx, dst []byte) []byte {
		host, _, _ := net.SplitHostPort(localAddr(c.r))
		return append(dst, host...)
	},
	"server_port": func(c *reqCtx, dst []byte) []byte {
		_, port, _ := net.SplitHostPort(localAddr(c.r))
		return append(dst, port...)
	},
	"request_id":     func(c *reqCtx, dst []byte) []byte { return append(dst, c.requestID()...) },
	"request_time":   func(c *reqCtx, dst []byte) []byte { return appendSeconds(dst, time.Since(c.start)) },
	"request_length": func(c *reqCtx, dst []byte) []byte { return strconv.AppendInt(dst, max(c.r.ContentLength, 0), 10) },
	"status": func(c *reqCtx, dst []byte) []byte {
		s := c.w.status
		if s == 0 {
			s = 200
		}
		return strconv.AppendInt(dst, int64(s), 10)
	},
	"body_bytes_sent": func(c *reqCtx, dst []byte) []byte { return strconv.AppendInt(dst, c.w.bodyBytes, 10) },
	"bytes_sent":      func(c *reqCtx, dst []byte) []byte { return strconv.AppendInt(dst, c.w.bodyBytes+c.w.headerBytes, 10) },
	"proxy_host":      func(c *reqCtx, dst []byte) []byte { return append(dst, c.proxyHost...) },
	"proxy_add_x_forwarded_for": func(c *reqCtx, dst []byte) []byte {
		for _, v := range c.r.Header["X-Forwarded-For"] {
			dst = append(append(dst, v...), ", "...)
		}
		return append(dst, remoteHost(c.r)...)
	},
	"upstream_addr":          upstreamList(func(a *attempt, dst []byte) []byte { return append(dst, a.addr...) }),
	"upstream_status":        upstreamList(func(a *attempt, dst []byte) []byte { return appendStatus(dst, a.status) }),
	"upstream_response_time": upstreamList(func(a *attempt, dst []byte) []byte { return appendSeconds(dst, a.total) }),
	"upstream_connect_time":  upstreamList(func(a *attempt, dst []byte) []byte { return appendSecondsOrDash(dst, a.connect) }),
	"upstream_header_time":   upstreamList(func(a *attempt, dst []byte) []byte { return appendSecondsOrDash(dst, a.header) }),
	"time_local": func(c *reqCtx, dst []byte) []byte {
		return time.Now().AppendFormat(dst, "02/Jan/2006:15:04:05 -0700")
	},
	"time_iso8601": func(c *reqCtx, dst []byte) []byte {
		return time.Now().AppendFormat(dst, "2006-01-02T15:04:05-07:00")
	},
	"msec": func(c *reqCtx, dst []byte) []byte {
		ms := time.Now().UnixMilli()
		dst = strconv.AppendInt(dst, ms/1000, 10)
		return append(dst, '.', byte('0'+ms%1000/100), byte('0'+ms%100/10), byte('0'+ms%10))
	},
	"connection":          func(c *reqCtx, dst []byte) []byte { return strconv.AppendUint(dst, c.conn.id, 10) },
	"connection_requests": func(c *reqCtx, dst []byte) []byte { return strconv.AppendInt(dst, c.conn.requests.Load(), 10) },
	"pid":                 func(c *reqCtx, dst []byte) []byte { return append(dst, pidText...) },
	"content_length":      func(c *reqCtx, dst []byte) []byte { return append(dst, c.r.Header.Get("Content-Length")...) },
	"content_type":        func(c *reqCtx, dst []byte) []byte { return append(dst, c.r.Header.Get("Content-Type")...) },
	"remote_user":         func(c *reqCtx, dst []byte) []byte { u, _, _ := c.r.BasicAuth(); return append(dst, u...) },
}

// upstreamList renders one field of every attempt, ", "-separated, as
// nginx's $upstream_* variables do.
func upstreamList(f func(a *attempt, dst []byte) []byte) getter {
	return func(c *reqCtx, dst []byte) []byte {
		for i := range c.attempts {
			if i > 0 {
				dst = append(dst, ", "...)
			}
			dst = f(&c.attempts[i], dst)
		}
		return dst
	}
}

func appendStatus(dst []byte, s int) []byte {
	if s == 0 {
		return append(dst, "502"...) // nginx shows 502 for an attempt with no response
	}
	return strconv.AppendInt(dst, int64(s), 10)
}

// appendSeconds writes d as seconds with milliseconds, "0.012".
func appendSeconds(dst []byte, d time.Duration) []byte {
	ms := d.Milliseconds()
	dst = strconv.AppendInt(dst, ms/1000, 10)
	return append(dst, '.', byte('0'+ms%1000/100), byte('0'+ms%100/10), byte('0'+ms%10))
}

func appendSecondsOrDash(dst []byte, d time.Duration) []byte {
	if d == 0 {
		return append(dst, '-')
	}
	return appendSeconds(dst, d)
}

func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func localAddr(r *http.Request) string {
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		return a.String()
	}
	return ""
}

// argValue finds one query argument as nginx does: the raw value of the
// first "name=" (names compared case-insensitively), not decoded.
func argValue(q, name string) string {
	for q != "" {
		var kv string
		kv, q, _ = strings.Cut(q, "&")
		k, v, _ := strings.Cut(kv, "=")
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// cookieValue finds one cookie without allocating the parsed list.
func cookieValue(r *http.Request, name string) string {
	for _, line := range r.Header["Cookie"] {
		for line != "" {
			var kv string
			kv, line, _ = strings.Cut(line, ";")
			k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
			if k == name {
				return v
			}
		}
	}
	return ""
}
