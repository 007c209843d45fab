//go:build ignore

// goroutines is evloop's twin with Go's own model: a goroutine per client
// connection waiting in the runtime's poller (net.Conn), the same minimal
// work per request, so that the two side by side tell what the
// goroutine-per-connection model costs by itself (docs/performance.md,
// fourth step). Reads and writes go through RawConn with raw recvfrom
// and sendto, as bunsan's sockio does. Same assumptions as evloop: not
// safe for anything but the bench's small GET requests.
//
//	GOMAXPROCS=1 go run docs/experiments/evloop/goroutines.go LISTEN BACKEND...
package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"syscall"
	"unsafe"
)

const bufSize = 16 << 10

var (
	crlf2 = []byte("\r\n\r\n")
	clKey = []byte("\r\nContent-Length: ")
)

// sock does raw reads and writes inside the poller's RawConn.
type sock struct {
	rc      syscall.RawConn
	p       []byte
	n       int
	e       syscall.Errno
	readFn  func(uintptr) bool
	writeFn func(uintptr) bool
}

func newSock(c net.Conn) *sock {
	rc, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		panic(err)
	}
	s := &sock{rc: rc}
	s.readFn = func(fd uintptr) bool {
		n, _, e := syscall.RawSyscall6(syscall.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&s.p[0])), uintptr(len(s.p)), 0, 0, 0)
		if e == syscall.EAGAIN {
			return false
		}
		s.n, s.e = int(n), e
		return true
	}
	s.writeFn = func(fd uintptr) bool {
		n, _, e := syscall.RawSyscall6(syscall.SYS_SENDTO, fd, uintptr(unsafe.Pointer(&s.p[0])), uintptr(len(s.p)), syscall.MSG_NOSIGNAL, 0, 0)
		if e == syscall.EAGAIN {
			return false
		}
		s.n, s.e = int(n), e
		return true
	}
	return s
}

func (s *sock) read(p []byte) int {
	s.p = p
	if err := s.rc.Read(s.readFn); err != nil || s.e != 0 {
		return 0
	}
	return s.n
}

func (s *sock) write(p []byte) bool {
	s.p = p
	return s.rc.Write(s.writeFn) == nil && s.e == 0 && s.n == len(p)
}

type upstream struct {
	s   *sock
	buf []byte
}

var (
	mu       sync.Mutex
	idle     [][]*upstream
	backends []string
	next     int
)

func take() (*upstream, int) {
	mu.Lock()
	b := next % len(backends)
	next++
	if l := idle[b]; len(l) > 0 {
		u := l[len(l)-1]
		idle[b] = l[:len(l)-1]
		mu.Unlock()
		return u, b
	}
	mu.Unlock()
	c, err := net.Dial("tcp", backends[b])
	if err != nil {
		panic(err)
	}
	return &upstream{s: newSock(c), buf: make([]byte, bufSize)}, b
}

func serve(c net.Conn) {
	defer c.Close()
	s := newSock(c)
	buf := make([]byte, bufSize)
	for {
		n := 0
		for bytes.Index(buf[:n], crlf2) < 0 {
			m := s.read(buf[n:])
			if m == 0 {
				return
			}
			n += m
		}
		u, b := take()
		if !u.s.write(buf[:n]) {
			return
		}
		un := 0
		for {
			m := u.s.read(u.buf[un:])
			if m == 0 {
				return
			}
			un += m
			h := bytes.Index(u.buf[:un], crlf2)
			if h < 0 {
				continue
			}
			i := bytes.Index(u.buf[:h], clKey)
			rest := u.buf[i+len(clKey) : h+2]
			cl, _ := strconv.Atoi(string(rest[:bytes.IndexByte(rest, '\r')]))
			if un >= h+4+cl {
				break
			}
		}
		if !s.write(u.buf[:un]) {
			return
		}
		mu.Lock()
		idle[b] = append(idle[b], u)
		mu.Unlock()
	}
}

func main() {
	ln, err := net.Listen("tcp", os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	backends = os.Args[2:]
	idle = make([][]*upstream, len(backends))
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go serve(c)
	}
}
