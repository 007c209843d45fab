package httpproxy

import (
	"io"
	"net/http"
	"testing"
)

// BenchmarkProxyGet measures one proxied GET through the whole data path
// (guard, vhost, location, variables, pick, round trip on a kept-alive
// backend connection, copy, access log off) over loopback.
func BenchmarkProxyGet(b *testing.B) {
	be := newBackendB(b)
	p := startProxyB(b, `http { access_log off; upstream app { server `+be+`; keepalive 32; }
		server { listen LISTEN; location / { proxy_pass http://app; proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for; } } }`)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	url := "http://" + p + "/bench"
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := client.Get(url)
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
}

// BenchmarkVariables measures evaluating a log-format-like expression.
func BenchmarkVariables(b *testing.B) {
	e, err := compileExpr(`$remote_addr - [$time_local] "$request" $status $body_bytes_sent "$http_user_agent" $upstream_addr`, newVarScope())
	if err != nil {
		b.Fatal(err)
	}
	r, _ := http.NewRequest("GET", "http://a/x?y=1", nil)
	r.RemoteAddr = "127.0.0.1:1234"
	r.RequestURI = "/x?y=1"
	r.Header.Set("User-Agent", "bench")
	c := newReqCtx(nil, r, 0)
	c.attempts = append(c.attempts, attempt{addr: "127.0.0.1:8080", status: 200})
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		buf = e.eval(c, buf[:0])
	}
}
