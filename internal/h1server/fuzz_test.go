package h1server

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

// FuzzParseHead checks the head parser's promises: no panic; a head it
// accepts, written out again from the parsed request, is accepted again
// and parses to the same fields.
func FuzzParseHead(f *testing.F) {
	for _, s := range []string{
		"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
		"POST /x?y=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nx-a: 1\r\nX-A: 2\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
		"GET http://h.test:8/p HTTP/1.1\r\nHost: other\r\n\r\n",
		"CONNECT h.test:443 HTTP/1.1\r\nHost: h.test:443\r\n\r\n",
		"GET / HTTP/1.0\r\nPragma: no-cache\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
		"GET / HTTP/1.1\nHost: a\n\n",
	} {
		f.Add([]byte(s))
	}
	lim := DefaultLimits()
	lim.HeaderBufSize, lim.HeaderBufNum = 256, 4
	f.Fuzz(func(t *testing.T, in []byte) {
		i := bytes.Index(in, crlfcrlf)
		if i < 0 {
			EarlyLimit(in, lim)
			return
		}
		r1, ok := parseForFuzz(in[:i+4], lim)
		if !ok {
			return
		}
		again := serialize(r1)
		r2, ok := parseForFuzz([]byte(again), lim)
		if !ok {
			t.Fatalf("%q was accepted, its rewrite %q is not", in[:i+4], again)
		}
		if a, b := fields(r1), fields(r2); !reflect.DeepEqual(a, b) {
			t.Fatalf("%q → %q:\n%v\n%v", in[:i+4], again, a, b)
		}
	})
}

func parseForFuzz(head []byte, lim Limits) (*http.Request, bool) {
	hi, code := CheckHead(head, lim)
	if code != 0 {
		return nil, false
	}
	r := new(http.Request)
	if parseRequest(r, string(head), hi, nil) != 0 {
		return nil, false
	}
	if hi.Chunked && r.ContentLength != -1 || !hi.Chunked && r.ContentLength != hi.Length {
		panic("framing and ContentLength disagree")
	}
	return r, true
}

// serialize writes the head back, in sorted field order.
func serialize(r *http.Request) string {
	var b strings.Builder
	b.WriteString(r.Method + " " + r.RequestURI + " " + r.Proto + "\r\n")
	if r.ProtoMinor == 1 || r.Host != "" {
		b.WriteString("Host: " + r.Host + "\r\n") // the parser moved it out of Header
	}
	if len(r.TransferEncoding) > 0 {
		b.WriteString("Transfer-Encoding: chunked\r\n")
	}
	keys := make([]string, 0, len(r.Header))
	for k := range r.Header {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range r.Header[k] {
			b.WriteString(k + ": " + v + "\r\n")
		}
	}
	b.WriteString("\r\n")
	return b.String()
}

func fields(r *http.Request) []any {
	return []any{r.Method, r.RequestURI, r.URL.String(), r.Proto, r.Host, r.Close, r.ContentLength, r.TransferEncoding, r.Header}
}

// FuzzChunkedBody feeds arbitrary bytes to the chunked decoder, in reads
// of varying size: it never panics, never yields more bytes than it was
// given, and what it accepts, net/http's decoder reads the same.
func FuzzChunkedBody(f *testing.F) {
	f.Add([]byte("3\r\nabc\r\n0\r\n\r\n"), uint8(1))
	f.Add([]byte("3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nTrailer: x\r\n\r\nGET /"), uint8(7))
	f.Add([]byte("zz\r\nabc\r\n0\r\n\r\n"), uint8(3))
	f.Add([]byte("1\r\nab\r\n0\r\n\r\n"), uint8(2))
	f.Fuzz(func(t *testing.T, in []byte, step uint8) {
		c := fuzzConn(in, int(step%16)+1)
		b := &body{c: c, chunked: true}
		out, err := io.ReadAll(b)
		if len(out) > len(in) {
			t.Fatalf("yielded %d bytes of %d", len(out), len(in))
		}
		if err != nil {
			return
		}
		consumed := len(in) - c.nc.(*fuzzNetConn).r.Len() - (c.a.w - c.a.r)
		ref, rerr := io.ReadAll(httputil.NewChunkedReader(bytes.NewReader(in[:consumed])))
		if rerr != nil || !bytes.Equal(ref, out) {
			t.Fatalf("%q: decoded %q, net/http %q (%v)", in[:consumed], out, ref, rerr)
		}
	})
}

// FuzzLengthBody: a Content-Length body yields exactly its length, or
// fails when the input is shorter.
func FuzzLengthBody(f *testing.F) {
	f.Add([]byte("hello world"), uint16(5), uint8(2))
	f.Fuzz(func(t *testing.T, in []byte, n uint16, step uint8) {
		c := fuzzConn(in, int(step%16)+1)
		b := &body{c: c, left: int64(n)}
		out, err := io.ReadAll(b)
		if len(out) > int(n) || err == nil && len(out) != int(n) || err != nil && len(in) >= int(n) {
			t.Fatalf("length %d, input %d: read %d, %v", n, len(in), len(out), err)
		}
	})
}

func fuzzConn(in []byte, step int) *conn {
	nc := &fuzzNetConn{r: bytes.NewReader(in), step: step}
	c := &conn{nc: nc, io: nc, lim: Limits{HeaderBufSize: 256, HeaderBufNum: 4}}
	c.acquire()
	return c
}

// fuzzNetConn is a net.Conn over bytes, reading at most step at a time.
type fuzzNetConn struct {
	net.Conn
	r    *bytes.Reader
	step int
}

func (f *fuzzNetConn) Read(p []byte) (int, error) {
	if len(p) > f.step {
		p = p[:f.step]
	}
	return f.r.Read(p)
}
func (f *fuzzNetConn) SetReadDeadline(time.Time) error { return nil }
