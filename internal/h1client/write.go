package h1client

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"

	"bunsan/internal/httpwire"
)

// writers buffer request heads and bodies; a head and a body that fit
// leave in one write.
var writers = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 16<<10) }}

// ErrInvalidRequest is a request that cannot be written without breaking
// HTTP/1 framing (a CR or LF in a header value or the target).
var ErrInvalidRequest = errors.New("invalid request")

// writeRequest writes req's head and body. The target is the request's
// URL.Opaque ("/" when empty) and RawQuery, as the proxy prepares them;
// headers go in sorted order, after Host.
func (c *conn) writeRequest(req *http.Request, http10 bool) error {
	target := req.URL.Opaque
	if target == "" {
		target = "/"
	}
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	if !validTarget(target) || !validTarget(req.URL.RawQuery) || !validValue(host) || !httpwire.IsTokenString(req.Method) {
		return fmt.Errorf("%w: method, target or host", ErrInvalidRequest)
	}
	body, length, err := requestBody(req, http10)
	if err != nil {
		return err
	}
	w := writers.Get().(*bufio.Writer)
	w.Reset(c)
	defer func() { w.Reset(nil); writers.Put(w) }()
	w.WriteString(req.Method)
	w.WriteByte(' ')
	w.WriteString(target)
	if req.URL.RawQuery != "" || req.URL.ForceQuery {
		w.WriteByte('?')
		w.WriteString(req.URL.RawQuery)
	}
	if http10 {
		w.WriteString(" HTTP/1.0\r\nHost: ")
	} else {
		w.WriteString(" HTTP/1.1\r\nHost: ")
	}
	w.WriteString(host)
	w.WriteString("\r\n")
	if err := c.writeHeader(w, req.Header); err != nil {
		return err
	}
	switch {
	case length >= 0 && (length > 0 || body != nil || methodWantsLength(req.Method)):
		w.WriteString("Content-Length: ")
		w.Write(strconv.AppendInt(w.AvailableBuffer(), length, 10))
		w.WriteString("\r\n")
	case length < 0:
		w.WriteString("Transfer-Encoding: chunked\r\n")
	}
	if (http10 || req.Close) && !httpwire.HasToken(req.Header["Connection"], "close") {
		w.WriteString("Connection: close\r\n")
	}
	w.WriteString("\r\n")
	if body != nil {
		if err := writeBody(w, body, length); err != nil {
			return err
		}
	}
	return w.Flush()
}

// writeHeader writes the header fields in a stable (sorted) order,
// leaving out those that framing decides.
func (c *conn) writeHeader(w *bufio.Writer, h http.Header) error {
	keys := c.keys[:0]
	for k := range h {
		switch k {
		case "Host", "Content-Length", "Transfer-Encoding", "Trailer":
			continue
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	c.keys = keys
	for _, k := range keys {
		if !httpwire.IsTokenString(k) {
			return fmt.Errorf("%w: header name %q", ErrInvalidRequest, k)
		}
		for _, v := range h[k] {
			if !validValue(v) {
				return fmt.Errorf("%w: value of header %s", ErrInvalidRequest, k)
			}
			w.WriteString(k)
			w.WriteString(": ")
			w.WriteString(v)
			w.WriteString("\r\n")
		}
	}
	clear(keys)
	return nil
}

// requestBody returns the body to send and its length, -1 for chunked.
// HTTP/1.0 has no chunked requests: a body of unknown length is read
// whole first (nginx buffers it in that case too).
func requestBody(req *http.Request, http10 bool) (io.Reader, int64, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, 0, nil
	}
	if req.ContentLength > 0 {
		return req.Body, req.ContentLength, nil
	}
	if !http10 {
		return req.Body, -1, nil
	}
	b, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, 0, &bodyError{err}
	}
	return bytes.NewReader(b), int64(len(b)), nil
}

// bodyError is a failure to read the request body, not to send it.
type bodyError struct{ err error }

func (e *bodyError) Error() string { return "reading request body: " + e.err.Error() }
func (e *bodyError) Unwrap() error { return e.err }

// bodySource tags the body's read errors as such.
type bodySource struct{ r io.Reader }

func (s bodySource) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF {
		err = &bodyError{err}
	}
	return n, err
}

// writeBody copies a body of known length exactly, or chunked.
func writeBody(w *bufio.Writer, body io.Reader, length int64) error {
	body = bodySource{body}
	if length >= 0 {
		n, err := io.Copy(w, io.LimitReader(body, length))
		if err == nil && n < length {
			err = fmt.Errorf("request body ended after %d of %d bytes", n, length)
		}
		return err
	}
	cw := chunkWriter{w}
	if _, err := io.Copy(cw, body); err != nil {
		return err
	}
	_, err := w.WriteString("0\r\n\r\n")
	return err
}

// chunkWriter frames each write as one chunk.
type chunkWriter struct{ w *bufio.Writer }

func (cw chunkWriter) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	cw.w.Write(strconv.AppendInt(cw.w.AvailableBuffer(), int64(len(p)), 16))
	cw.w.WriteString("\r\n")
	cw.w.Write(p)
	_, err := cw.w.WriteString("\r\n")
	return len(p), err
}

// methodWantsLength: Go's client sent "Content-Length: 0" for these
// without a body, and some backends refuse them otherwise.
func methodWantsLength(m string) bool { return m == "POST" || m == "PUT" || m == "PATCH" }

// validValue refuses what would end or split a header line.
func validValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if b := s[i]; b == '\r' || b == '\n' || b == 0 {
			return false
		}
	}
	return true
}

// validTarget refuses what would end or split the request line.
func validTarget(s string) bool {
	for i := 0; i < len(s); i++ {
		if b := s[i]; b <= ' ' || b == 0x7f {
			return false
		}
	}
	return true
}
