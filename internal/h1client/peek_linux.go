package h1client

import "syscall"

// peekFd looks at the socket with MSG_PEEK|MSG_DONTWAIT: EAGAIN means
// nothing arrived, data or 0 (EOF) means the connection is not clean.
func (c *conn) peekFd(fd uintptr) bool {
	n, _, err := syscall.Recvfrom(int(fd), c.peekByte[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	c.peekN, c.peekErr = n, err
	return true
}
