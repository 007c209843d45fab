package stream

import (
	"fmt"
	"io"
	"net"
	"testing"
	"time"
)

// sinkBackend reads and discards everything; sourceBackend writes size
// bytes to each connection and closes it.
func sinkBackend(b *testing.B) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(io.Discard, c); c.Close() }()
		}
	}()
	b.Cleanup(func() { ln.Close() })
	return ln.Addr().String()
}

// BenchmarkProxyBulk pushes bytes from a client through the proxy to a
// sink: the splice path. Compare with BenchmarkDirectBulk for the cost
// of the proxy hop.
func BenchmarkProxyBulk(b *testing.B) {
	for _, limited := range []bool{false, true} {
		name, extra := "splice", ""
		if limited {
			// A rate far above loopback speed: forces the buffered path.
			name, extra = "buffered", "proxy_upload_rate 100g;"
		}
		b.Run(name, func(b *testing.B) {
			r := startRig(b, fmt.Sprintf("stream { server { listen 127.0.0.1:1; proxy_pass %s; %s } }", sinkBackend(b), extra))
			c, err := net.Dial("tcp", r.addrs[key1])
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			buf := make([]byte, 256<<10)
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if _, err := c.Write(buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDirectBulk is the same transfer without the proxy.
func BenchmarkDirectBulk(b *testing.B) {
	c, err := net.Dial("tcp", sinkBackend(b))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 256<<10)
	b.SetBytes(int64(len(buf)))
	b.ResetTimer()
	for range b.N {
		c.Write(buf)
	}
}

// BenchmarkProxyShortConnections opens a connection through the proxy,
// reads the backend's greeting and closes: connections per second and
// the allocations of one session.
func BenchmarkProxyShortConnections(b *testing.B) {
	be := startBackend(b, "a").addr
	r := startRig(b, fmt.Sprintf("stream { upstream u { server %s; } server { listen 127.0.0.1:1; proxy_pass u; } }", be))
	buf := make([]byte, 2)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		c, err := net.DialTimeout("tcp", r.addrs[key1], testTimeout)
		if err != nil {
			b.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(testTimeout))
		if _, err := io.ReadFull(c, buf); err != nil {
			b.Fatal(err)
		}
		c.Close()
	}
}
