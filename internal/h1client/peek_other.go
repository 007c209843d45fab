//go:build !linux

package h1client

import "syscall"

// peekFd has no portable non-blocking peek here: idle connections are
// trusted, and a stale one is caught by the retry of RoundTrip.
func (c *conn) peekFd(fd uintptr) bool {
	c.peekErr = syscall.EAGAIN
	return true
}
