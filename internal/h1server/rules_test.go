package h1server

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

// TestRefusals sends each kind of malformed or ambiguous request (the
// guard's cases, internal/httpproxy/guard_test.go) straight to the
// server: the answer has nginx's status (or stricter), the connection
// closes, and the handler never sees the request.
func TestRefusals(t *testing.T) {
	var seen atomic.Int64
	lim := DefaultLimits()
	lim.HeaderBufSize = 1024
	ts := startServer(t, countingEcho(&seen), lim)
	long := strings.Repeat("a", 2000)
	tests := []struct{ name, req, code string }{
		{"CL and TE", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "400"},
		{"TE and CL", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", "400"},
		{"duplicate CL same", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx", "400"},
		{"duplicate CL differ", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx", "400"},
		{"CL list", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1, 1\r\n\r\nx", "400"},
		{"CL sign", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +1\r\n\r\nx", "400"},
		{"CL hex", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x1\r\n\r\nx", "400"},
		{"TE obfuscated list", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n", "501"},
		{"TE obfuscated name", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n", "501"},
		{"TE twice", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "400"},
		{"TE in HTTP/1.0", "POST / HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "400"},
		{"TE space before colon", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n", "400"},
		{"bare LF", "GET / HTTP/1.1\nHost: a\n\n", "400"},
		{"bare LF in header", "GET / HTTP/1.1\r\nHost: a\nX: y\r\n\r\n", "400"},
		{"bare CR", "GET / HTTP/1.1\r\nHost: a\rX: y\r\n\r\n", "400"},
		{"NUL in header", "GET / HTTP/1.1\r\nHost: a\r\nX: a\x00b\r\n\r\n", "400"},
		{"CTL in header", "GET / HTTP/1.1\r\nHost: a\r\nX: a\x01b\r\n\r\n", "400"},
		{"folding", "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", "400"},
		{"duplicate Host", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", "400"},
		{"missing Host", "GET / HTTP/1.1\r\nX: a\r\n\r\n", "400"},
		{"bad Host", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", "400"},
		{"bad request line", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", "400"},
		{"bad method", "G(T / HTTP/1.1\r\nHost: a\r\n\r\n", "400"},
		{"bad target", "GET foo HTTP/1.1\r\nHost: a\r\n\r\n", "400"},
		{"HTTP/2 line", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", "505"},
		{"h2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "505"},
		{"URI too long", "GET /" + long + " HTTP/1.1\r\nHost: a\r\n\r\n", "414"},
		{"URI too long, incomplete", "GET /" + long, "414"},
		{"header line too long", "GET / HTTP/1.1\r\nHost: a\r\nX: " + long + "\r\n\r\n", "431"},
		{"head too large", "GET / HTTP/1.1\r\nHost: a\r\n" + strings.Repeat("X-A: "+strings.Repeat("b", 900)+"\r\n", 6) + "\r\n", "431"},
		{"reserved marker", "GET / HTTP/1.1\r\nHost: a\r\nX-Bunsan-Reject-1234: 200\r\n\r\n", "400"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := seen.Load()
			out := ts.raw(t, tt.req)
			if !strings.HasPrefix(out, "HTTP/1.1 "+tt.code+" ") {
				t.Fatalf("answer %q, want status %s", firstLine(out), tt.code)
			}
			if !strings.Contains(out, "Connection: close") {
				t.Errorf("connection not marked closed: %q", out)
			}
			if seen.Load() != before {
				t.Errorf("the handler saw the request")
			}
		})
	}
}

// TestBadChunk: an invalid chunk ends the body with ErrBadFraming and
// the connection; what follows is never parsed as a request.
func TestBadChunk(t *testing.T) {
	var seen atomic.Int64
	ts := startServer(t, countingEcho(&seen), DefaultLimits())
	for _, size := range []string{"zz", "-1", " 3", "3 ", "1234567890abcdef0", "0x3", "3\r\nabcX"} {
		out := ts.raw(t, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"+size+"\r\nabc\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n")
		if !strings.HasPrefix(out, "HTTP/1.1 400 ") || !strings.Contains(out, ErrBadFraming.Error()) {
			t.Errorf("chunk size %q: answer %q, want 400 with the framing error", size, out)
		}
		if strings.Count(out, "HTTP/1.1") != 1 {
			t.Errorf("chunk size %q: more than one answer:\n%s", size, out)
		}
	}
	if seen.Load() != 7 {
		t.Errorf("handler saw %d requests, want 7", seen.Load())
	}
}

func countingEcho(n *atomic.Int64) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		echo(w, r)
	}
}
