package h1server

import (
	"bytes"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// body is a request body as its framing allows and no more: an exact
// Content-Length, or chunks decoded strictly (ParseChunkSize,
// CheckTrailerLine); a violation is ErrBadFraming and ends the
// connection. It reads the connection's buffer first, then the socket.
type body struct {
	mu      sync.Mutex // a transport may still read after the handler returned
	c       *conn      // nil once the request is over
	chunked bool
	left    int64 // of the body, or of the current chunk
	st      chunkState
	// cont: "100 Continue" is owed before the first read; atomic, as the
	// response reads it while a transport may be blocked in Read.
	cont   atomic.Bool
	closed bool // by the handler
	err    error
}

// Close makes later reads fail; what is left of the body is read away
// (or the connection closed) after the handler, as net/http does.
func (b *body) Close() error {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	return nil
}

type chunkState uint8

const (
	chunkSize chunkState = iota
	chunkData
	chunkCRLF
	chunkTrailer
	chunkEnd
)

// maxChunkLine bounds a chunk-size line with its extensions, as the guard
// always did.
const maxChunkLine = 4096

func (b *body) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.c == nil || b.closed {
		return 0, http.ErrBodyReadAfterClose
	}
	if b.err != nil {
		return 0, b.err
	}
	if b.cont.Load() {
		b.cont.Store(false)
		b.c.a.resp.writeContinue()
	}
	n, err := b.read(p)
	if err != nil {
		b.err = err
		if err == io.EOF {
			b.c.watch.bodyDone(b.c)
		}
	}
	return n, err
}

func (b *body) read(p []byte) (int, error) {
	if !b.chunked {
		if b.left == 0 {
			return 0, io.EOF
		}
		n, err := b.c.readSome(p, b.left)
		b.left -= int64(n)
		if b.left == 0 {
			return n, io.EOF
		}
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return n, err
	}
	for {
		switch b.st {
		case chunkEnd:
			return 0, io.EOF
		case chunkData:
			n, err := b.c.readSome(p, b.left)
			b.left -= int64(n)
			if b.left == 0 {
				b.st = chunkCRLF
			}
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			if n > 0 || err != nil {
				return n, err
			}
		case chunkCRLF:
			line, err := b.c.readLine(2)
			if err != nil {
				return 0, err
			}
			if len(line) != 2 || line[0] != '\r' {
				return 0, ErrBadFraming
			}
			b.st = chunkSize
		case chunkSize:
			line, err := b.c.readLine(maxChunkLine)
			if err != nil {
				return 0, err
			}
			size, ok := ParseChunkSize(line)
			if !ok {
				return 0, ErrBadFraming
			}
			b.st, b.left = chunkData, size
			if size == 0 {
				b.st = chunkTrailer
			}
		case chunkTrailer:
			// Trailer fields are checked and dropped: nginx does not
			// pass request trailers on either.
			line, err := b.c.readLine(b.c.lim.HeaderBufSize)
			if err != nil {
				return 0, err
			}
			if !CheckTrailerLine(line) {
				return 0, ErrBadFraming
			}
			if len(line) == 2 {
				b.st = chunkEnd
				return 0, io.EOF
			}
		}
	}
}

// readSome reads at most limit bytes: buffered ones first, else straight
// from the socket into p, so that a large body is not copied twice and
// nothing beyond the framing is read.
func (c *conn) readSome(p []byte, limit int64) (int, error) {
	if int64(len(p)) > limit {
		p = p[:limit]
	}
	a := c.a
	if a.r < a.w {
		n := copy(p, a.buf[a.r:a.w])
		a.r += n
		if a.r == a.w {
			a.r, a.w = 0, 0
		}
		return n, nil
	}
	return c.io.Read(p)
}

// readLine returns the next line with its LF, up to max bytes, from the
// buffer; the line stays valid until the next read.
func (c *conn) readLine(max int) ([]byte, error) {
	a := c.a
	scanned := 0
	for {
		if i := bytes.IndexByte(a.buf[a.r+scanned:a.w], '\n'); i >= 0 {
			line := a.buf[a.r : a.r+scanned+i+1]
			a.r += len(line)
			if len(line) > max {
				return nil, ErrBadFraming
			}
			return line, nil
		}
		scanned = a.w - a.r
		if scanned > max {
			return nil, ErrBadFraming
		}
		if a.w == len(a.buf) {
			if a.r == 0 {
				return nil, ErrBadFraming // a line longer than the buffer
			}
			a.w = copy(a.buf, a.buf[a.r:a.w])
			a.r = 0
		}
		n, err := c.io.Read(a.buf[a.w:])
		a.w += n
		if n == 0 && err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
}

// maxDiscard is how much of an unread body is read away after the
// handler to keep the connection (net/http's figure).
const maxDiscard = 256 << 10

// finish ends the body after the handler: it reports whether the
// connection can carry another request (the body was read to its end,
// or could be read away), and makes later reads fail.
func (b *body) finish(keep bool) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	c := b.c
	b.c = nil
	switch {
	case b.err == io.EOF:
		return keep
	case b.err != nil || !keep || b.cont.Load():
		// A broken body, a client that was never told to send it.
		return false
	}
	b.c = c
	if d := c.lim.BodyTimeout; d > 0 {
		_ = c.setReadDeadline(time.Now().Add(d))
	}
	n, err := io.CopyN(io.Discard, readerFunc(b.read), maxDiscard)
	b.c = nil
	_ = c.setReadDeadline(time.Time{})
	return err == io.EOF && n <= maxDiscard
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }
