package h1server

import (
	"io"
	"net/http"
	"time"
)

// close ends the connection at once, from its own goroutine, which
// cleans up even when shut closed the socket first.
func (c *conn) close() {
	c.state.Store(connDone)
	_ = c.nc.Close()
	c.closed()
}

// shut closes an idle connection from another goroutine (Shutdown, the
// keepalive sweep). A parked connection has no goroutine: shut cleans it
// up. Otherwise the connection's goroutine sees its read fail and does.
func (c *conn) shut(parked bool) bool {
	if !c.state.CompareAndSwap(connIdle, connDone) {
		return false
	}
	_ = c.nc.Close()
	if parked {
		c.closed()
	}
	return true
}

// closeGraceful ends the connection after a response, from its own
// goroutine: half-close, then a short drain, so that a response is not
// lost to a reset while the client is still sending (a refused body);
// net/http does the same.
func (c *conn) closeGraceful() {
	c.state.Store(connDone)
	if c.a != nil {
		_ = c.a.bw.Flush()
	}
	type closeWriter interface{ CloseWrite() error }
	if cw, ok := c.nc.(closeWriter); ok && cw.CloseWrite() == nil {
		_ = c.setReadDeadline(time.Now().Add(100 * time.Millisecond))
		var b [512]byte
		for i := 0; i < 64; i++ {
			if _, err := c.nc.Read(b[:]); err != nil {
				break
			}
		}
	}
	_ = c.nc.Close()
	c.closed()
}

// quietEnd reports a connection that can close without lingering, as
// nginx closes it: the client said it would send nothing more
// (Connection: close, or HTTP/1.0 without keep-alive), its body was read
// to the end and nothing of a next request is buffered. Then no unread
// data can turn the close into a reset that destroys the response.
func (c *conn) quietEnd(r *http.Request) bool {
	if !r.Close || (c.a != nil && c.a.r < c.a.w) {
		return false
	}
	if r.Body == http.NoBody {
		return true
	}
	b, ok := r.Body.(*body)
	if !ok {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err == io.EOF
}

// closeNow sends what is buffered and closes.
func (c *conn) closeNow() {
	c.state.Store(connDone)
	if c.a != nil {
		_ = c.a.bw.Flush()
	}
	_ = c.nc.Close()
	c.closed()
}

func (c *conn) closed() {
	c.watch.stop()
	c.cx.end()
	c.setState(http.StateClosed)
	c.release()
	c.srv.untrack(c)
}
