package h1client

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
)

// max1xx bounds the interim responses skipped before the final one.
const max1xx = 8

// readResponse reads the final response head and frames its body. The
// connection goes back to the pool (or is closed) when the body ends.
// mustClose (HTTP/1.0 mode, or a request that said close) keeps the
// connection from being pooled whatever the response says.
func (c *conn) readResponse(req *http.Request, mustClose bool) (*http.Response, error) {
	rb := &respBody{resp: http.Response{Request: req}}
	resp := &rb.resp
	var fr framing
	for n := 0; ; n++ {
		s, err := readHead(c.br)
		if err != nil {
			return nil, err
		}
		if fr, err = parseHeadInto(s, resp, rb.vals[:0]); err != nil {
			return nil, err
		}
		if resp.StatusCode >= 200 || resp.StatusCode == http.StatusSwitchingProtocols {
			break
		}
		if n == max1xx {
			return nil, invalid("more than %d interim responses", max1xx)
		}
	}
	fr.close = fr.close || mustClose
	resp.Close = fr.close
	resp.ContentLength = fr.length
	code := resp.StatusCode
	switch {
	case code == http.StatusSwitchingProtocols:
		// The connection is the upgraded stream's now, never pooled; the
		// caller's context no longer governs it.
		c.unwatch()
		resp.Body = &upgraded{c: c}
		// 0, as net/http has it for 1xx: written out again (to the
		// client), -1 would add "Connection: close" to the handshake.
		resp.ContentLength = 0
		return resp, nil
	case req.Method == http.MethodHead || code == http.StatusNoContent || code == http.StatusNotModified:
		if req.Method != http.MethodHead {
			resp.ContentLength = 0
		}
		resp.Body = http.NoBody
		c.finish(!fr.close)
		return resp, nil
	case fr.chunked:
		resp.ContentLength = -1
		b := &rb.body
		*b = body{c: c, close: fr.close, chunked: true}
		b.ch.reset(c.br)
		resp.Body = b
	case fr.length == 0:
		resp.Body = http.NoBody
		c.finish(!fr.close)
	case fr.length > 0:
		rb.body = body{c: c, close: fr.close, left: fr.length}
		resp.Body = &rb.body
	default:
		// Neither length nor chunked: the body runs to the connection's
		// end, which cannot be reused.
		resp.Close = true
		rb.body = body{c: c, close: true, left: -1}
		resp.Body = &rb.body
	}
	return resp, nil
}

// respBody is a response, its body and its header's values in one
// allocation: they live and die together (the body is unused when there
// is none; the values array when there are more fields). The client's
// response may hold the values a while after the request: that keeps the
// whole of it, briefly.
type respBody struct {
	resp http.Response
	body body
	vals [respVals]string
}

// respVals covers a typical backend head: nine fields (the array is sized
// by the head's line count, the empty line included). More bytes per
// response than a separate array would take, one allocation fewer.
const respVals = 10

// readHead reads one response head, up to and including its empty line,
// from what fits in the connection's buffer (the head size limit).
func readHead(br *bufio.Reader) (string, error) {
	from := 0
	for {
		buf, _ := br.Peek(br.Buffered())
		if end := headEnd(buf, from); end > 0 {
			s := string(buf[:end])
			_, _ = br.Discard(end)
			return s, nil
		}
		if len(buf) >= br.Size() {
			return "", ErrHeadTooLarge
		}
		from = max(len(buf)-2, 0)
		if _, err := br.Peek(len(buf) + 1); err != nil {
			if err == io.EOF && len(buf) > 0 {
				err = io.ErrUnexpectedEOF
			}
			return "", err
		}
	}
}

// headEnd returns the length of the head in b (through "\n\n" or
// "\n\r\n"), or 0. from is where the previous search gave up.
func headEnd(b []byte, from int) int {
	for i := from; i < len(b); {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return 0
		}
		i += j + 1
		switch {
		case i < len(b) && b[i] == '\n':
			return i + 1
		case i+1 < len(b) && b[i] == '\r' && b[i+1] == '\n':
			return i + 2
		}
	}
	return 0
}
