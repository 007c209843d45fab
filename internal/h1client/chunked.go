package h1client

import (
	"bufio"
	"bytes"
	"errors"
	"io"

	"bunsan/internal/httpwire"
)

// ErrChunked is a chunked body that breaks the framing rules.
var ErrChunked = errors.New("upstream sent invalid chunked response")

// maxTrailer bounds the trailer section, which is read and dropped.
const maxTrailer = 16 << 10

// chunkedReader decodes a chunked body strictly: hexadecimal sizes only
// (no sign, no 0x, at most 15 digits), optional extensions after ';',
// CRLF or LF after every line and after every chunk's data. Trailers are
// read and dropped. It reads nothing past the body's last line, so a
// connection whose body ends cleanly is at a message boundary.
type chunkedReader struct {
	br    *bufio.Reader
	left  int64 // data bytes left in the current chunk
	state uint8
	err   error
}

const (
	chunkSize uint8 = iota // next: a chunk-size line
	chunkData              // in a chunk's data
	chunkEnd               // next: the CRLF after a chunk's data
	chunkDone              // the last chunk and trailers were read
)

func (r *chunkedReader) reset(br *bufio.Reader) { *r = chunkedReader{br: br} }

func (r *chunkedReader) Read(p []byte) (int, error) {
	for r.err == nil {
		switch r.state {
		case chunkSize:
			r.err = r.readSize()
		case chunkData:
			if len(p) == 0 {
				return 0, nil
			}
			if int64(len(p)) > r.left {
				p = p[:r.left]
			}
			n, err := r.br.Read(p)
			r.left -= int64(n)
			if r.left == 0 {
				r.state = chunkEnd
			}
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			r.err = err
			if n > 0 {
				return n, nil
			}
		case chunkEnd:
			line, err := r.line()
			if err == nil && len(line) != 0 {
				err = ErrChunked
			}
			r.err, r.state = err, chunkSize
		case chunkDone:
			return 0, io.EOF
		}
	}
	return 0, r.err
}

func (r *chunkedReader) readSize() error {
	line, err := r.line()
	if err != nil {
		return err
	}
	if i := bytes.IndexByte(line, ';'); i >= 0 {
		line = line[:i] // extensions are ignored, as nginx does
	}
	line = bytes.TrimRight(line, " \t")
	n, ok := httpwire.ParseHex(line)
	if !ok {
		return ErrChunked
	}
	if n > 0 {
		r.left, r.state = n, chunkData
		return nil
	}
	return r.trailers()
}

// trailers reads up to the empty line that ends a chunked body.
func (r *chunkedReader) trailers() error {
	total := 0
	for {
		line, err := r.line()
		if err != nil {
			return err
		}
		if len(line) == 0 {
			r.state = chunkDone
			return nil
		}
		if total += len(line); total > maxTrailer || line[0] == ' ' || line[0] == '\t' || bytes.IndexByte(line, ':') <= 0 {
			return ErrChunked
		}
	}
}

// line reads one line of the chunked framing without its CRLF or LF.
func (r *chunkedReader) line() ([]byte, error) {
	line, err := r.br.ReadSlice('\n')
	switch {
	case err == bufio.ErrBufferFull:
		return nil, ErrChunked // longer than the connection's buffer
	case err == io.EOF:
		return nil, io.ErrUnexpectedEOF
	case err != nil:
		return nil, err
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	if bytes.IndexByte(line, '\r') >= 0 || bytes.IndexByte(line, 0) >= 0 {
		return nil, ErrChunked
	}
	return line, nil
}
