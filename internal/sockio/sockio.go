package sockio

import (
	"io"
	"net"
	"os"
	"syscall"
	"unsafe"
)

// Conn does a socket's reads and writes. A read and a write may run at
// the same time; two reads (or two writes) must not, which net.Conn
// would allow: each of h1server's and h1client's connections has one
// reader and one writer.
type Conn struct {
	nc net.Conn
	rc syscall.RawConn

	rbuf    []byte
	rn      int
	rerr    error
	readFn  func(fd uintptr) bool
	wbuf    []byte
	wn      int
	werr    error
	writeFn func(fd uintptr) bool
}

// Init sets s up for nc's socket; false means nc is not a plain TCP
// socket (TLS, a PROXY-protocol wrapper holding read-ahead bytes, an
// in-memory pipe), and callers use nc itself. rc is nc's RawConn when the
// caller has it already, else nil. A Conn is meant to be a field of the
// caller's connection struct; it allocates only its two poller callbacks.
func (s *Conn) Init(nc net.Conn, rc syscall.RawConn) bool {
	tc, ok := nc.(*net.TCPConn)
	if !ok {
		return false
	}
	if rc == nil {
		var err error
		if rc, err = tc.SyscallConn(); err != nil {
			return false
		}
	}
	*s = Conn{nc: nc, rc: rc}
	s.readFn, s.writeFn = s.recv, s.send
	return true
}

// Read is net.Conn.Read: it waits in the poller for data, honouring the
// socket's read deadline, and reports io.EOF at the peer's end.
func (s *Conn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	s.rbuf, s.rn, s.rerr = p, 0, nil
	err := s.rc.Read(s.readFn)
	s.rbuf = nil
	if err != nil {
		return 0, s.rawError("read", err)
	}
	if s.rerr != nil {
		return 0, s.rerr
	}
	if s.rn == 0 {
		return 0, io.EOF
	}
	return s.rn, nil
}

func (s *Conn) recv(fd uintptr) bool {
	for {
		n, _, e := syscall.RawSyscall6(syscall.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&s.rbuf[0])), uintptr(len(s.rbuf)), 0, 0, 0)
		switch e {
		case 0:
			s.rn = int(n)
			return true
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false
		}
		s.rerr = s.opError("read", e)
		return true
	}
}

// Write is net.Conn.Write: all of p, or an error; it waits in the poller
// while the socket's buffer is full, honouring the write deadline.
func (s *Conn) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	s.wbuf, s.wn, s.werr = p, 0, nil
	err := s.rc.Write(s.writeFn)
	n := s.wn
	s.wbuf = nil
	if err != nil {
		return n, s.rawError("write", err)
	}
	return n, s.werr
}

func (s *Conn) send(fd uintptr) bool {
	for s.wn < len(s.wbuf) {
		rest := s.wbuf[s.wn:]
		n, _, e := syscall.RawSyscall6(syscall.SYS_SENDTO, fd, uintptr(unsafe.Pointer(&rest[0])), uintptr(len(rest)), syscall.MSG_NOSIGNAL, 0, 0)
		switch e {
		case 0:
			s.wn += int(n)
			continue
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false
		}
		s.werr = s.opError("write", e)
		return true
	}
	return true
}

// rawError renames the poller's failures (a deadline, a closed
// connection), which RawConn reports as "raw-read" and "raw-write", as
// net.Conn names them, so that logs read as before.
func (s *Conn) rawError(op string, err error) error {
	if oe, ok := err.(*net.OpError); ok {
		return &net.OpError{Op: op, Net: "tcp", Source: s.nc.LocalAddr(), Addr: s.nc.RemoteAddr(), Err: oe.Err}
	}
	return err
}

// opError is what net.Conn returns for the same failure, worded the
// same ("read tcp a->b: read: connection reset by peer"), so that logs
// read as before and errors.Is(err, syscall.ECONNRESET) keeps working.
func (s *Conn) opError(op string, e syscall.Errno) error {
	return &net.OpError{Op: op, Net: "tcp", Source: s.nc.LocalAddr(), Addr: s.nc.RemoteAddr(), Err: os.NewSyscallError(op, e)}
}
