package h1client

import (
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"strings"
	"sync"

	"bunsan/internal/httpwire"
)

// Errors of a response that breaks HTTP/1 framing; the proxy treats them
// as nginx's "upstream sent invalid header" (502, proxy_next_upstream
// invalid_header).
var (
	ErrHeadTooLarge = errors.New("upstream sent too big header")
	ErrInvalidHead  = errors.New("upstream sent invalid header")
)

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidHead}, args...)...)
}

// framing is what the head says about the body and the connection.
type framing struct {
	length  int64 // Content-Length, -1 when absent
	chunked bool
	close   bool // the backend will close, or HTTP/1.0 without keep-alive
}

// parseHead parses a complete response head (status line, header lines,
// the empty line; CRLF or bare LF line ends, as nginx accepts from
// upstreams) into resp. Header names and values are substrings of s, so
// the only allocations are the map and one backing array for the values.
func parseHead(s string, resp *http.Response) (framing, error) {
	return parseHeadInto(s, resp, nil)
}

// parseHeadInto is parseHead with the values' backing array in vals (its
// capacity), when it is large enough.
func parseHeadInto(s string, resp *http.Response, vals []string) (framing, error) {
	fr := framing{length: -1}
	line, rest, err := nextLine(s)
	if err != nil {
		return fr, err
	}
	if err := parseStatusLine(line, resp); err != nil {
		return fr, err
	}
	n := strings.Count(rest, "\n")
	hdr := newHeader(n)
	if cap(vals) < n {
		vals = make([]string, 0, n)
	}
	vals = vals[:0]
	keepAlive, te := false, false
	for {
		line, rest, err = nextLine(rest)
		if err != nil {
			return fr, err
		}
		if line == "" {
			break
		}
		key, val, err := headerLine(line)
		if err != nil {
			return fr, err
		}
		switch key {
		case "Content-Length":
			n, ok := httpwire.ParseLength(val)
			if !ok {
				return fr, invalid("Content-Length %q", val)
			}
			if fr.length >= 0 {
				if n != fr.length {
					return fr, invalid("duplicate Content-Length with different values")
				}
				continue // the same value twice: keep one
			}
			fr.length = n
		case "Transfer-Encoding":
			if te || !strings.EqualFold(val, "chunked") {
				return fr, invalid("Transfer-Encoding %q", val)
			}
			te = true
			continue // hop-by-hop; the framing says it
		case "Connection":
			for _, t := range strings.Split(val, ",") {
				t = httpwire.TrimOWS(t)
				fr.close = fr.close || strings.EqualFold(t, "close")
				keepAlive = keepAlive || strings.EqualFold(t, "keep-alive")
			}
		}
		vals = append(vals, val)
		if vv, ok := hdr[key]; ok {
			hdr[key] = append(vv, val)
		} else {
			hdr[key] = vals[len(vals)-1 : len(vals) : len(vals)]
		}
	}
	if rest != "" {
		return fr, invalid("bytes after the header")
	}
	if te {
		if fr.length >= 0 {
			return fr, invalid("both Content-Length and Transfer-Encoding")
		}
		if resp.ProtoMinor == 0 {
			return fr, invalid("Transfer-Encoding in an HTTP/1.0 response")
		}
		fr.chunked = true
	}
	if resp.ProtoMinor == 0 && !keepAlive {
		fr.close = true
	}
	resp.Header = hdr
	return fr, nil
}

// headers are response header maps handed back by ReleaseHeader.
var headers sync.Pool

// maxPooledFields bounds the maps kept: one that held a large head would
// make every later response clear a large map.
const maxPooledFields = 32

func newHeader(n int) http.Header {
	if h, ok := headers.Get().(http.Header); ok {
		return h
	}
	return make(http.Header, n)
}

// ReleaseHeader hands back a response's header map for a later response
// to fill. The caller must be done with the map, and so must everyone it
// gave the map to; the value slices stay valid (they are not reused), so
// a header copied value by value into another map may outlive it.
func ReleaseHeader(h http.Header) {
	if h == nil || len(h) > maxPooledFields {
		return
	}
	clear(h)
	headers.Put(h)
}

// nextLine cuts one line off s, without its CRLF or LF. A CR anywhere else
// is refused: it is how header injection and smuggling tricks start.
func nextLine(s string) (line, rest string, err error) {
	i := strings.IndexByte(s, '\n')
	if i < 0 {
		return "", "", invalid("unterminated line")
	}
	line, rest = s[:i], s[i+1:]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	if strings.IndexByte(line, '\r') >= 0 {
		return "", "", invalid("bare CR")
	}
	return line, rest, nil
}

// parseStatusLine reads "HTTP/1.x NNN reason".
func parseStatusLine(line string, resp *http.Response) error {
	if len(line) < 12 || line[:7] != "HTTP/1." || !isDigit(line[7]) || line[8] != ' ' {
		return invalid("status line %q", clip(line))
	}
	c := line[9:12]
	if !isDigit(c[0]) || c[0] == '0' || !isDigit(c[1]) || !isDigit(c[2]) || (len(line) > 12 && line[12] != ' ') {
		return invalid("status line %q", clip(line))
	}
	for i := 12; i < len(line); i++ {
		if b := line[i]; b == 0 || (b < ' ' && b != '\t') || b == 0x7f {
			return invalid("control character in status line")
		}
	}
	resp.Proto = line[:8]
	resp.ProtoMajor, resp.ProtoMinor = 1, int(line[7]-'0')
	resp.StatusCode = int(c[0]-'0')*100 + int(c[1]-'0')*10 + int(c[2]-'0')
	resp.Status = strings.TrimRight(line[9:], " \t")
	return nil
}

// headerLine splits "Name: value", refusing obs-fold, whitespace before
// the colon, names that are not tokens, and NUL in values.
func headerLine(line string) (key, val string, err error) {
	i := strings.IndexByte(line, ':')
	if i <= 0 {
		if line != "" && (line[0] == ' ' || line[0] == '\t') {
			return "", "", invalid("obsolete line folding")
		}
		return "", "", invalid("header line %q", clip(line))
	}
	name := line[:i]
	if !httpwire.IsTokenString(name) {
		return "", "", invalid("header name %q", clip(name))
	}
	val = httpwire.TrimOWS(line[i+1:])
	if strings.IndexByte(val, 0) >= 0 {
		return "", "", invalid("NUL in header %s", name)
	}
	return textproto.CanonicalMIMEHeaderKey(name), val, nil
}

func isDigit(b byte) bool { return '0' <= b && b <= '9' }

func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}
