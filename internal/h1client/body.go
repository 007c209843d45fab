package h1client

import (
	"errors"
	"io"
)

// ErrShortBody is a body that ended before its Content-Length.
var ErrShortBody = errors.New("upstream prematurely closed connection")

// body reads a response body of known length (left > 0), chunked, or
// running to the connection's end (left < 0). At the body's exact end it
// hands the connection back; Close before that closes the connection.
type body struct {
	c        *conn // nil once handed back or closed
	left     int64
	chunked  bool
	close    bool
	ch       chunkedReader
	err      error
	overrun  bool
	complete bool
}

func (b *body) Read(p []byte) (int, error) {
	if b.c == nil {
		if b.err == nil {
			b.err = errors.New("read on a closed response body")
		}
		return 0, b.err
	}
	var n int
	var err error
	switch {
	case b.chunked:
		n, err = b.ch.Read(p)
		if err == io.EOF {
			b.complete = true
			b.end(true)
		}
	case b.left > 0:
		if int64(len(p)) > b.left {
			p = p[:b.left]
		}
		n, err = b.c.br.Read(p)
		b.left -= int64(n)
		if b.left == 0 {
			err = io.EOF
			b.complete = true
			b.end(true)
		} else if err == io.EOF {
			err = ErrShortBody
		}
	default:
		n, err = b.c.br.Read(p)
		if err == io.EOF {
			b.complete = true
			b.end(false)
		}
	}
	if err != nil && b.c != nil {
		b.end(false) // framing broke, a timeout, or the request was cancelled
	}
	if err != nil {
		b.err = err
	}
	return n, err
}

// end hands the connection back: reusable only when the body ended where
// its framing said and the backend did not ask to close.
func (b *body) end(clean bool) {
	c := b.c
	b.c = nil
	if b.err == nil {
		b.err = io.EOF
	}
	b.overrun = c.finish(clean && !b.close)
}

// Close before the end closes the connection: what is left of the body
// is not worth reading to save it.
func (b *body) Close() error {
	if b.c != nil {
		b.err = errors.New("read on a closed response body")
		b.end(false)
	}
	return nil
}

// Overran says that the backend sent more than the body's framing
// allowed; the connection was closed rather than reused (nginx: "upstream
// sent more data than specified in Content-Length header").
func (b *body) Overran() bool { return b.overrun }

// Complete says that the body was read to the end its framing set; false
// after a short or broken body, a timeout, or a Close before the end.
func (b *body) Complete() bool { return b.complete }

// upgraded is the connection after 101 Switching Protocols: buffered
// bytes first, then the socket, with the read and send timeouts between
// operations as for any upstream connection.
type upgraded struct{ c *conn }

func (u *upgraded) Read(p []byte) (int, error)  { return u.c.br.Read(p) }
func (u *upgraded) Write(p []byte) (int, error) { return u.c.Write(p) }
func (u *upgraded) Close() error                { return u.c.nc.Close() }
