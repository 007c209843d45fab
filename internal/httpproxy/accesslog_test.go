package httpproxy

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLogEscapes(t *testing.T) {
	tests := []struct{ in, def, json string }{
		{`plain`, `plain`, `plain`},
		{"a\"b\\c", `a\x22b\x5Cc`, `a\"b\\c`},
		{"\x01\n\t", `\x01\x0A\x09`, `\u0001\n\t`},
		{"é", `\xC3\xA9`, "é"},
	}
	for _, tt := range tests {
		if got := string(appendDefaultEscaped(nil, []byte(tt.in))); got != tt.def {
			t.Errorf("default %q = %q, want %q", tt.in, got, tt.def)
		}
		if got := string(appendJSONEscaped(nil, []byte(tt.in))); got != tt.json {
			t.Errorf("json %q = %q, want %q", tt.in, got, tt.json)
		}
	}
}

// TestReopenLogs: after the file is moved away (log rotation) and the
// logs reopened, new lines go to a fresh file at the configured path.
func TestReopenLogs(t *testing.T) {
	p := startProxy(t, `http { access_log DIR/rot.log; server { listen LISTEN; location / { return 204; } } }`)
	path := filepath.Join(p.dir, "rot.log")
	httpGet(t, p.url("/before"))
	waitFor(t, func() bool { return strings.Contains(readFile(t, path), "/before") })
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	// Logs of earlier tests in this process whose directories are gone
	// fail to reopen; only this one matters here.
	_ = ReopenLogs()
	httpGet(t, p.url("/after"))
	waitFor(t, func() bool { return strings.Contains(readFile(t, path), "/after") })
	if strings.Contains(readFile(t, path+".1"), "/after") || strings.Contains(readFile(t, path), "/before") {
		t.Errorf("lines in the wrong file")
	}
}

// TestUpstreamHeaderVariables: $upstream_http_* and $upstream_cookie_*
// read the answering backend's response in the access log, with or
// without sticky (the log is written after the proxy handed the
// response's header maps back).
func TestUpstreamHeaderVariables(t *testing.T) {
	be := newBackend(t, "b", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-App", "v"+r.URL.Path[1:])
		w.Header().Add("Set-Cookie", "sid=s"+r.URL.Path[1:]+"; Path=/")
		io.WriteString(w, "ok")
	})
	p := startProxy(t, `http { log_format up '$request_uri $upstream_http_x_app $upstream_cookie_sid';
		access_log DIR/up.log up;
		upstream app { server `+be.addr+`; keepalive 4; }
		server { listen LISTEN; location / { proxy_pass http://app; } } }`)
	for _, path := range []string{"/1", "/2", "/3"} {
		httpGet(t, p.url(path))
	}
	want := "/1 v1 s1\n/2 v2 s2\n/3 v3 s3\n"
	waitFor(t, func() bool { return readFile(t, filepath.Join(p.dir, "up.log")) == want })
}
