package httpproxy

import (
	"fmt"
	"net"
	"strings"
	"testing"
)

// TestExplainHeader checks upstream_explain_header: the client is told
// which method chose which server and which servers it passed over.
func TestExplainHeader(t *testing.T) {
	live := newBackend(t, "live", nil)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	down := ln.Addr().String()
	ln.Close()
	p := startProxy(t, fmt.Sprintf(`http {
    upstream app { server %s down; server %s; }
    server {
        listen LISTEN;
        location /explained/ { proxy_pass http://app; upstream_explain_header X-Upstream-Explain; }
        location / { proxy_pass http://app; }
    }
}`, down, live.addr))
	resp, _ := httpGet(t, p.url("/explained/x"))
	got := resp.Header.Get("X-Upstream-Explain")
	for _, want := range []string{"method=round_robin", "winner=" + live.addr, "skipped=" + down + "(down)"} {
		if !strings.Contains(got, want) {
			t.Errorf("X-Upstream-Explain = %q, want it to contain %q", got, want)
		}
	}
	if resp, _ := httpGet(t, p.url("/plain")); resp.Header.Get("X-Upstream-Explain") != "" {
		t.Errorf("the header appears where it is not configured")
	}
}
