//go:build ignore

// evloop is an experiment, not part of bunsan: the least a Go program
// can do to proxy the bench's small keep-alive requests, to measure the
// floor for an HTTP/1 event loop of bunsan's own (docs/performance.md,
// fourth step). One goroutine, its own epoll set (edge-triggered), raw
// non-blocking system calls, no parsing beyond finding the end of a head
// and its Content-Length, no allocation per request. It assumes what
// the bench sends: GET requests without bodies, each head in one read,
// responses with Content-Length that fit in 16 KiB. Not safe for
// anything else.
//
//	GOMAXPROCS=1 go run docs/experiments/evloop/main.go LISTEN BACKEND...
package main

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"syscall"
	"unsafe"
)

const bufSize = 16 << 10

type conn struct {
	fd   int
	buf  []byte
	n    int
	peer *conn // client <-> its upstream while a request is in flight
	up   bool
	be   int // backend index (upstreams)
}

var (
	epfd     int
	conns    = map[int]*conn{}
	idle     [][]*conn // idle upstream connections per backend
	backends []syscall.SockaddrInet4
	next     int
	crlf2    = []byte("\r\n\r\n")
	clKey    = []byte("\r\nContent-Length: ")
)

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func sockaddr(s string) syscall.SockaddrInet4 {
	ap, err := netip.ParseAddrPort(s)
	check(err)
	return syscall.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}
}

func add(c *conn) {
	conns[c.fd] = c
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP | -syscall.EPOLLET&0xffffffff, Fd: int32(c.fd)}
	check(syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, c.fd, &ev))
}

func read(fd int, p []byte) (int, syscall.Errno) {
	n, _, e := syscall.RawSyscall6(syscall.SYS_RECVFROM, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)), 0, 0, 0)
	return int(n), e
}

func write(fd int, p []byte) syscall.Errno {
	_, _, e := syscall.RawSyscall6(syscall.SYS_SENDTO, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)), syscall.MSG_NOSIGNAL, 0, 0)
	return e
}

func closeConn(c *conn) {
	delete(conns, c.fd)
	syscall.Close(c.fd) // leaves the epoll set with its last descriptor
}

// upstream returns an idle connection to the next backend, or dials one
// (a blocking connect: the experiment measures reuse, not dialing).
func upstream() *conn {
	b := next % len(backends)
	next++
	if l := idle[b]; len(l) > 0 {
		c := l[len(l)-1]
		idle[b] = l[:len(l)-1]
		return c
	}
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	check(err)
	check(syscall.Connect(fd, &backends[b]))
	check(syscall.SetNonblock(fd, true))
	check(syscall.SetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1))
	c := &conn{fd: fd, buf: make([]byte, bufSize), up: true, be: b}
	add(c)
	return c
}

func clientReadable(c *conn) {
	for {
		n, e := read(c.fd, c.buf[c.n:])
		if e == syscall.EAGAIN {
			return
		}
		if e != 0 || n == 0 {
			if c.peer == nil {
				closeConn(c)
			}
			return
		}
		c.n += n
		if c.peer != nil || bytes.Index(c.buf[:c.n], crlf2) < 0 {
			continue
		}
		u := upstream()
		u.peer, c.peer = c, u
		if write(u.fd, c.buf[:c.n]) != 0 {
			os.Exit(2)
		}
		c.n = 0
		if n < len(c.buf)-c.n {
			return // short read: drained, as nginx assumes
		}
	}
}

func upstreamReadable(u *conn) {
	for {
		n, e := read(u.fd, u.buf[u.n:])
		if e == syscall.EAGAIN {
			return
		}
		if e != 0 || n == 0 {
			closeConn(u)
			return
		}
		u.n += n
		h := bytes.Index(u.buf[:u.n], crlf2)
		if h < 0 {
			continue
		}
		i := bytes.Index(u.buf[:h], clKey)
		if i < 0 {
			os.Exit(3)
		}
		rest := u.buf[i+len(clKey) : h+2]
		cl, _ := strconv.Atoi(string(rest[:bytes.IndexByte(rest, '\r')]))
		if u.n < h+4+cl {
			continue
		}
		c := u.peer
		u.peer, c.peer = nil, nil
		if write(c.fd, u.buf[:u.n]) != 0 {
			closeConn(c)
		}
		u.n = 0
		idle[u.be] = append(idle[u.be], u)
		if c.n > 0 {
			clientReadable(c) // a pipelined request
		}
		return
	}
}

func main() {
	ln := sockaddr(os.Args[1])
	for _, a := range os.Args[2:] {
		backends = append(backends, sockaddr(a))
	}
	idle = make([][]*conn, len(backends))
	lfd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
	check(err)
	check(syscall.SetsockoptInt(lfd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1))
	check(syscall.Bind(lfd, &ln))
	check(syscall.Listen(lfd, 4096))
	epfd, err = syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	check(err)
	lev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(lfd)}
	check(syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, lfd, &lev))
	events := make([]syscall.EpollEvent, 256)
	for {
		n, err := syscall.EpollWait(epfd, events, -1)
		if err == syscall.EINTR {
			continue
		}
		check(err)
		for _, ev := range events[:n] {
			if int(ev.Fd) == lfd {
				for {
					nfd, _, err := syscall.Accept4(lfd, syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC)
					if err != nil {
						break
					}
					add(&conn{fd: nfd, buf: make([]byte, bufSize)})
				}
				continue
			}
			c := conns[int(ev.Fd)]
			if c == nil {
				continue
			}
			if c.up {
				upstreamReadable(c)
			} else {
				clientReadable(c)
			}
		}
	}
}
