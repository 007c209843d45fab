package h1server

import (
	"bufio"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestCloseEndings: every way a connection ends after a response leaves
// the whole response with the client, whether the server closes at once
// (the client said close, nothing unread) or lingers first (the server
// decided to close while the client may still be sending).
func TestCloseEndings(t *testing.T) {
	ts := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/bye" {
			w.Header().Set("Connection", "close") // as keepalive_requests does
		}
		io.WriteString(w, strings.Repeat("x", 3000))
	}), DefaultLimits())
	tests := []struct {
		name string
		req  string
	}{
		{"client says close", "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"},
		{"HTTP/1.0", "GET / HTTP/1.0\r\n\r\n"},
		{"client close, body read", "POST / HTTP/1.1\r\nHost: a\r\nConnection: close\r\nContent-Length: 3\r\n\r\nabc"},
		{"server closes, client pipelines", "GET /bye HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"},
		{"client close, body unread", "POST /bye HTTP/1.1\r\nHost: a\r\nConnection: close\r\nContent-Length: 100000\r\n\r\n" + strings.Repeat("y", 50000)},
	}
	for _, tt := range tests {
		c := ts.dial(t)
		io.WriteString(c, tt.req)
		br := bufio.NewReader(c)
		method := strings.Fields(tt.req)[0]
		resp, body := readResponse(t, br, method)
		if resp.StatusCode != 200 || len(body) != 3000 {
			t.Errorf("%s: %d, %d bytes", tt.name, resp.StatusCode, len(body))
		}
		if rest, _ := io.ReadAll(br); len(rest) != 0 {
			t.Errorf("%s: %q after the response", tt.name, rest)
		}
		c.Close()
	}
}
