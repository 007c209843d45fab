package h1server

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"bunsan/internal/testutil/badrequests"
)

// TestRefusals sends each kind of malformed or ambiguous request (the
// shared table in internal/testutil/badrequests) straight to the
// server: the answer has nginx's status (or stricter), the connection
// closes, and the handler never sees the request.
func TestRefusals(t *testing.T) {
	var seen atomic.Int64
	lim := DefaultLimits()
	lim.HeaderBufSize = 1024
	ts := startServer(t, countingEcho(&seen), lim)
	tests := append(badrequests.Cases(),
		badrequests.Case{Name: "reserved marker", Req: "GET / HTTP/1.1\r\nHost: a\r\nX-Bunsan-Reject-1234: 200\r\n\r\n", Code: "400"})
	for _, tt := range tests {
		t.Run(tt.Name, func(t *testing.T) {
			before := seen.Load()
			out := ts.raw(t, tt.Req)
			if !strings.HasPrefix(out, "HTTP/1.1 "+tt.Code+" ") {
				t.Fatalf("answer %q, want status %s", firstLine(out), tt.Code)
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
