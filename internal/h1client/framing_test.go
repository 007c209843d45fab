package h1client

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

// TestResponseFraming sends one request whose answer is the case's bytes,
// then an honest one, and checks the first response and whether its
// connection was reused for the second.
func TestResponseFraming(t *testing.T) {
	big := "HTTP/1.1 200 OK\r\nX-Big: " + strings.Repeat("a", 9000) + "\r\nContent-Length: 2\r\n\r\nok"
	cases := []struct {
		name, method, reply string
		closeAfter          bool
		headErr             error // RoundTrip fails with it
		bodyErr             bool  // reading the body fails
		status              int
		body                string
		reuse               bool
		overran             bool
	}{
		{name: "length", reply: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", status: 200, body: "ok", reuse: true},
		{name: "bare LF", reply: "HTTP/1.1 200 OK\nContent-Length: 2\n\nok", status: 200, body: "ok", reuse: true},
		{name: "no reason", reply: "HTTP/1.1 201\r\nContent-Length: 2\r\n\r\nok", status: 201, body: "ok", reuse: true},
		{name: "chunked", reply: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n3\r\n!!!\r\n0\r\n\r\n", status: 200, body: "ok!!!", reuse: true},
		{name: "chunked ext trailer", reply: "HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n2;a=b\r\nok\r\n0\r\nX-T: 1\r\n\r\n", status: 200, body: "ok", reuse: true},
		{name: "chunked LF", reply: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\nok\n0\n\n", status: 200, body: "ok", reuse: true},
		{name: "chunk size not hex", reply: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nok\r\n0\r\n\r\n", status: 200, bodyErr: true},
		{name: "chunk size signed", reply: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-2\r\nok\r\n0\r\n\r\n", status: 200, bodyErr: true},
		{name: "chunk size 0x", reply: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x2\r\nok\r\n0\r\n\r\n", status: 200, bodyErr: true},
		{name: "chunk size overflow", reply: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000002\r\nok\r\n0\r\n\r\n", status: 200, bodyErr: true},
		{name: "chunk data too long", reply: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokk\r\n0\r\n\r\n", status: 200, bodyErr: true},
		{name: "chunked cut", reply: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n", closeAfter: true, status: 200, bodyErr: true},
		{name: "more than length", reply: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nsmuggled", status: 200, body: "ok", overran: true},
		{name: "more than chunked", reply: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\nextra", status: 200, body: "ok", overran: true},
		{name: "less than length", reply: "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nok", closeAfter: true, status: 200, bodyErr: true},
		{name: "length and chunked", reply: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", headErr: ErrInvalidHead},
		{name: "duplicate length differing", reply: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok!", headErr: ErrInvalidHead},
		{name: "duplicate length same", reply: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok", status: 200, body: "ok", reuse: true},
		{name: "length list", reply: "HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nok", headErr: ErrInvalidHead},
		{name: "length signed", reply: "HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\nok", headErr: ErrInvalidHead},
		{name: "transfer-encoding gzip", reply: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nok", headErr: ErrInvalidHead},
		{name: "chunked in 1.0", reply: "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", headErr: ErrInvalidHead},
		{name: "obs-fold", reply: "HTTP/1.1 200 OK\r\nX-A: 1\r\n  2\r\nContent-Length: 2\r\n\r\nok", headErr: ErrInvalidHead},
		{name: "NUL in value", reply: "HTTP/1.1 200 OK\r\nX-A: 1\x002\r\nContent-Length: 2\r\n\r\nok", headErr: ErrInvalidHead},
		{name: "space in name", reply: "HTTP/1.1 200 OK\r\nX A: 1\r\nContent-Length: 2\r\n\r\nok", headErr: ErrInvalidHead},
		{name: "space before colon", reply: "HTTP/1.1 200 OK\r\nX-A : 1\r\nContent-Length: 2\r\n\r\nok", headErr: ErrInvalidHead},
		{name: "bare CR", reply: "HTTP/1.1 200 OK\r\nX-A: 1\r2\r\nContent-Length: 2\r\n\r\nok", headErr: ErrInvalidHead},
		{name: "head too large", reply: big, headErr: ErrHeadTooLarge},
		{name: "HTTP/2 status line", reply: "HTTP/2 200 OK\r\n\r\n", headErr: ErrInvalidHead},
		{name: "two-digit status", reply: "HTTP/1.1 20 OK\r\n\r\n", headErr: ErrInvalidHead},
		{name: "ICY", reply: "ICY 200 OK\r\n\r\n", headErr: ErrInvalidHead},
		{name: "interim skipped", reply: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", status: 200, body: "ok", reuse: true},
		{name: "too many interim", reply: strings.Repeat("HTTP/1.1 100 Continue\r\n\r\n", 20), headErr: ErrInvalidHead},
		{name: "204", reply: "HTTP/1.1 204 No Content\r\n\r\n", status: 204, reuse: true},
		{name: "304 with length", reply: "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", status: 304, reuse: true},
		{name: "HEAD with length", method: "HEAD", reply: "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", status: 200, reuse: true},
		{name: "HEAD then extra", method: "HEAD", reply: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", status: 200},
		{name: "until close", reply: "HTTP/1.1 200 OK\r\n\r\nall of it", closeAfter: true, status: 200, body: "all of it"},
		{name: "1.0 length", reply: "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", status: 200, body: "ok"},
		{name: "1.0 keep-alive", reply: "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok", status: 200, body: "ok", reuse: true},
		{name: "connection close", reply: "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", status: 200, body: "ok"},
		{name: "empty", reply: "", closeAfter: true, headErr: errAny},
		{name: "cut head", reply: "HTTP/1.1 200 OK\r\nContent-Le", closeAfter: true, headErr: errAny},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			be := scripted(t, func(req *http.Request) (string, bool) {
				if req.URL.Path == "/case" {
					return tc.reply, tc.closeAfter
				}
				return honest, false
			})
			p := New(Options{MaxHeadBytes: 4096})
			defer p.Close()
			method := tc.method
			if method == "" {
				method = "GET"
			}
			resp, _, err := get(t, p, be.addr, method, "/case")
			if tc.headErr != nil {
				if err == nil || (tc.headErr != errAny && !errors.Is(err, tc.headErr)) {
					t.Fatalf("err = %v, want %v", err, tc.headErr)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				if resp.StatusCode != tc.status {
					t.Errorf("status %d, want %d", resp.StatusCode, tc.status)
				}
				body, err := readAll(resp)
				if tc.bodyErr != (err != nil) {
					t.Errorf("body error %v, want error: %v", err, tc.bodyErr)
				}
				if !tc.bodyErr && body != tc.body {
					t.Errorf("body %q, want %q", body, tc.body)
				}
				if b, ok := resp.Body.(interface{ Complete() bool }); ok && b.Complete() == tc.bodyErr {
					t.Errorf("Complete() = %v after a body error %v", b.Complete(), err)
				}
				if o, ok := resp.Body.(interface{ Overran() bool }); ok && o.Overran() != tc.overran {
					t.Errorf("Overran() = %v, want %v", o.Overran(), tc.overran)
				}
			}
			resp, info, err := get(t, p, be.addr, "GET", "/ok")
			if err != nil {
				t.Fatalf("next request: %v", err)
			}
			if body, err := readAll(resp); err != nil || body != "honest" {
				t.Fatalf("next request got %q, %v", body, err)
			}
			if info.Reused != tc.reuse {
				t.Errorf("next request reused the connection: %v, want %v", info.Reused, tc.reuse)
			}
		})
	}
}

// errAny stands for any error in the table.
var errAny = errors.New("any error")
