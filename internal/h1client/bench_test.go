package h1client

import (
	"bufio"
	"context"
	"net"
	"testing"
)

// BenchmarkRoundTrip: one small GET on a kept-alive connection to an
// in-process backend that answers fixed bytes.
func BenchmarkRoundTrip(b *testing.B) {
	answer := []byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nDate: Mon, 02 Jan 2006 15:04:05 GMT\r\nContent-Length: 5\r\n\r\nbench")
	be := newRaw(b, func(c net.Conn, br *bufio.Reader) {
		for {
			for { // skip the request head
				line, err := br.ReadSlice('\n')
				if err != nil {
					return
				}
				if len(line) <= 2 {
					break
				}
			}
			if _, err := c.Write(answer); err != nil {
				return
			}
		}
	})
	p := New(Options{})
	defer p.Close()
	req := newReq("GET", "/bench?x=1", "backend", nil)
	req.Header.Set("User-Agent", "bench")
	req.Header.Set("X-Forwarded-For", "10.0.0.1")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	buf := make([]byte, 512)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		resp, _, err := p.RoundTrip(ctx, be.addr, req)
		if err != nil {
			b.Fatal(err)
		}
		for {
			if _, err := resp.Body.Read(buf); err != nil {
				break
			}
		}
		resp.Body.Close()
	}
}
