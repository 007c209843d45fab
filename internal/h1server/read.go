package h1server

import (
	"bytes"
	"net/http"
	"time"
)

// readHead returns the next head (up to and including CRLF CRLF), with
// client_header_timeout running from its first byte. Before that byte a
// kept-alive connection that could not be parked waits for
// keepalive_timeout, a new one for client_header_timeout (nginx's
// timeout for the first request).
func (c *conn) readHead() ([]byte, int, error) {
	a := c.a
	scanned := 0
	clock := false
	for {
		// Empty lines before a request line are ignored, as nginx does.
		for a.w-a.r >= 2 && a.buf[a.r] == '\r' && a.buf[a.r+1] == '\n' {
			a.r += 2
		}
		data := a.buf[a.r:a.w]
		if len(data) > 0 {
			if i := bytes.Index(data[max(scanned-3, 0):], crlfcrlf); i >= 0 {
				if !clock {
					// The whole head came with its first bytes: no
					// clock to start, and so none to stop.
					c.startHead(false)
				}
				end := max(scanned-3, 0) + i + 4
				a.r += end
				if a.r == a.w {
					a.r, a.w = 0, 0
				}
				// The deadline that bounded the wait (linger's, the
				// head's) stays on the socket: nothing reads it before
				// the next wait unless the request has a body
				// (readRequest clears it then), the handler hijacks
				// (Hijack clears it) or the watch starts (which clears
				// it). The next linger can then often keep it.
				return data[:end], 0, nil
			}
			if !clock {
				clock = true
				c.startHead(true)
			}
			scanned = len(data)
			if code := EarlyLimit(data, c.lim); code != 0 {
				return nil, code, nil
			}
		} else if !clock {
			c.waitDeadline()
		}
		if a.w == len(a.buf) {
			c.makeRoom()
		}
		n, err := c.io.Read(a.buf[a.w:])
		a.w += n
		if n == 0 && err != nil {
			return nil, 0, err
		}
	}
}

var crlfcrlf = []byte("\r\n\r\n")

// startHead marks the connection active and, when more of the head is
// to come (partial), starts the head's clock.
func (c *conn) startHead(partial bool) {
	if c.state.CompareAndSwap(connIdle, connActive) {
		c.setState(http.StateActive)
	}
	if d := c.lim.HeaderTimeout; d > 0 && !c.fresh && partial {
		_ = c.setReadDeadline(time.Now().Add(d))
	}
	c.fresh = false
}

// waitDeadline bounds the wait for a head's first byte.
func (c *conn) waitDeadline() {
	d := c.lim.IdleTimeout
	if c.fresh {
		return // set at accept: client_header_timeout from the connection's start
	}
	if d > 0 {
		_ = c.setReadDeadline(time.Now().Add(d))
	}
}

// makeRoom makes space for more input: by moving unread bytes to the
// front, or by growing the buffer for a long head (up to the limits,
// which EarlyLimit enforces).
func (c *conn) makeRoom() {
	a := c.a
	if a.r > 0 {
		a.w = copy(a.buf, a.buf[a.r:a.w])
		a.r = 0
		return
	}
	nb := make([]byte, min(2*len(a.buf), c.lim.maxHead()+bufSize))
	if len(nb) <= len(a.buf) {
		nb = make([]byte, len(a.buf)+bufSize)
	}
	a.w = copy(nb, a.buf[:a.w])
	a.buf = nb
}

// parkAfter is how long a connection keeps its goroutine and buffers
// after a response before it is parked. A client that sends its next
// request sooner (a busy keep-alive client) costs no more syscalls than
// with net/http; parking costs an epoll_ctl each way and a goroutine
// start, worth it only for connections that stay idle.
const parkAfter = 20 * time.Millisecond

// lingerSlack is how much shorter than parkAfter a linger may be: a busy
// connection's next linger keeps the deadline the last one set (still on
// the socket, see readHead) when it is that recent, and the socket's
// timer is not touched for every request (nginx's lazy timer). How long
// an idle connection keeps its goroutine before parking matters little.
const lingerSlack = parkAfter / 4

// lingerKeeps reports whether the deadline on the socket, cur, will do
// for a linger that wants to end at want.
func lingerKeeps(cur, want time.Time) bool {
	return !cur.After(want) && cur.After(want.Add(-lingerSlack))
}

// linger waits up to parkAfter for the next request's first bytes. It
// reports whether some came; an error means the client is gone.
func (c *conn) linger() (bool, error) {
	if c.raw == nil || c.lim.IdleTimeout <= 0 {
		return false, nil // not parkable: readHead waits in the goroutine anyway
	}
	a := c.a
	if want := time.Now().Add(min(parkAfter, c.lim.IdleTimeout)); !lingerKeeps(c.rdl, want) {
		_ = c.setReadDeadline(want)
	}
	n, err := c.io.Read(a.buf[a.w:])
	a.w += n
	if n > 0 {
		return true, nil
	}
	if err != nil && !isTimeout(err) {
		return false, err
	}
	return false, nil
}
