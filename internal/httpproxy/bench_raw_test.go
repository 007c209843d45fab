package httpproxy

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"syscall"
	"testing"
)

// BenchmarkProxyRaw is BenchmarkProxyGet without net/http on either end:
// a raw keep-alive client and a raw backend that allocate nothing, so
// that allocs/op and ns/op are the proxy's own (one small GET through
// server, routing, balancing, upstream keep-alive, and back).
func BenchmarkProxyRaw(b *testing.B) {
	be := rawBackend(b)
	p := startProxyB(b, `http { access_log off; upstream app { server `+be+`; keepalive 32; }
		server { listen LISTEN; location / { proxy_pass http://app; } } }`)
	req := []byte("GET /bench HTTP/1.1\r\nHost: bench\r\nUser-Agent: raw\r\n\r\n")
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var c net.Conn
		var br *bufio.Reader
		defer func() {
			if c != nil {
				c.Close()
			}
		}()
		for pb.Next() {
			if c == nil {
				var err error
				if c, err = net.Dial("tcp", p); err != nil {
					b.Error(err)
					return
				}
				br = bufio.NewReaderSize(c, 4096)
			}
			if _, err := c.Write(req); err != nil {
				b.Error(err)
				return
			}
			closing, err := readRawResponse(br)
			if err != nil {
				b.Error(err)
				return
			}
			if closing { // keepalive_requests reached, as wrk reconnects
				c.Close()
				c = nil
			}
		}
	})
}

// rawBackend answers every request with 100 bytes, keeping connections.
func rawBackend(b *testing.B) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	resp := []byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n" + string(bytes.Repeat([]byte("x"), 100)))
	var wg sync.WaitGroup
	b.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				br := bufio.NewReaderSize(c, 4096)
				for {
					if err := skipHead(br); err != nil {
						return
					}
					if _, err := c.Write(resp); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// skipHead reads one request head (the benchmark's requests have no
// body) and returns its Content-Length, or -1.
func skipHead(br *bufio.Reader) error {
	_, _, err := readHead(br)
	return err
}

// readHead reads a head and returns its Content-Length (-1 without one)
// and whether it says "Connection: close".
func readHead(br *bufio.Reader) (length int, closing bool, err error) {
	length = -1
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return 0, false, err
		}
		if len(line) <= 2 {
			return length, closing, nil
		}
		if bytes.EqualFold(bytes.TrimSpace(line), []byte("connection: close")) {
			closing = true
		}
		const cl = "content-length:"
		if len(line) > len(cl) && bytes.EqualFold(line[:len(cl)], []byte(cl)) {
			n, err := strconv.Atoi(string(bytes.TrimSpace(line[len(cl):])))
			if err == nil {
				length = n
			}
		}
	}
}

// readRawResponse reads one response with a Content-Length body.
func readRawResponse(br *bufio.Reader) (closing bool, err error) {
	n, closing, err := readHead(br)
	if err != nil {
		return false, err
	}
	if n < 0 {
		return false, io.ErrUnexpectedEOF
	}
	_, err = br.Discard(n)
	return closing, err
}

// BenchmarkProxyRawClose is BenchmarkProxyRaw with a new client
// connection per request (Connection: close), as the bench's "close"
// scenario: the client is blocking sockets made with system calls, so
// that allocs/op are the proxy's own per-connection costs.
func BenchmarkProxyRawClose(b *testing.B) {
	be := rawBackend(b)
	p := startProxyB(b, `http { access_log off; upstream app { server `+be+`; keepalive 32; }
		server { listen LISTEN; location / { proxy_pass http://app; } } }`)
	ap, err := netip.ParseAddrPort(p)
	if err != nil {
		b.Fatal(err)
	}
	sa := &syscall.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}
	req := []byte("GET /bench HTTP/1.1\r\nHost: bench\r\nUser-Agent: raw\r\nConnection: close\r\n\r\n")
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		buf := make([]byte, 4096)
		for pb.Next() {
			if err := rawExchange(sa, req, buf); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// rawExchange sends req on a new blocking socket and reads until the
// proxy closes; the response must be a 200.
func rawExchange(sa *syscall.SockaddrInet4, req, buf []byte) error {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer syscall.Close(fd)
	if err := syscall.Connect(fd, sa); err != nil {
		return err
	}
	if _, err := syscall.Write(fd, req); err != nil {
		return err
	}
	got := 0
	for {
		n, err := syscall.Read(fd, buf[got:])
		if err != nil {
			return err
		}
		if n == 0 {
			break
		}
		got += n
		if got == len(buf) {
			return io.ErrShortBuffer
		}
	}
	if !bytes.HasPrefix(buf[:got], []byte("HTTP/1.1 200 ")) {
		return io.ErrUnexpectedEOF
	}
	return nil
}
