package h1server

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"bunsan/internal/httpwire"
)

// response is the http.ResponseWriter. Head and body go into the
// connection's pooled bufio.Writer; a body written before the handler
// ends and small enough waits in pend, so that it gets a Content-Length
// and leaves with its head in one write. There is no Content-Type
// sniffing: nginx sends none it was not told to send.
type response struct {
	c          *conn
	req        *http.Request
	status     int   // 0 until WriteHeader
	committed  bool  // the head is in the buffer
	cl         int64 // the length the head announces, or -1
	written    int64
	chunked    bool
	closeAfter bool
	noBody     bool // HEAD, 204, 304: no body bytes go out
	hijacked   bool
	// mu orders "100 Continue", written by whoever reads the body first
	// (a transport goroutine, perhaps), before the head; the handler's
	// writes after WriteHeader need no lock.
	mu sync.Mutex
}

// reset starts a response; the header map is the connection's, reused
// (a handler must not keep it after returning, as with net/http).
func (w *response) reset(c *conn, r *http.Request) {
	*w = response{c: c, req: r, cl: -1}
	clear(c.a.header)
	c.a.pend = c.a.pend[:0]
}

func (w *response) Header() http.Header { return w.c.a.header }

func (w *response) WriteHeader(code int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.status != 0 || w.hijacked {
		return
	}
	if code < 100 || code > 999 {
		panic("h1server: invalid WriteHeader code " + strconv.Itoa(code))
	}
	if code < 200 && code != http.StatusSwitchingProtocols {
		w.writeInterim(code)
		return
	}
	w.status = code
	h := w.Header()
	if v := h.Get("Content-Length"); v != "" {
		if n, ok := ParseLength([]byte(v)); ok {
			w.cl = n
		} else {
			h.Del("Content-Length")
		}
	}
	w.noBody = w.req.Method == http.MethodHead || code == http.StatusNoContent || code == http.StatusNotModified ||
		code == http.StatusSwitchingProtocols
}

// writeInterim sends a 1xx informational response at once.
func (w *response) writeInterim(code int) {
	bw := w.c.a.bw
	writeStatusLine(bw, w.req.ProtoMinor, code)
	writeFields(bw, w.Header(), false)
	bw.WriteString("\r\n")
	_ = bw.Flush()
}

// writeContinue answers Expect: 100-continue on the first body read,
// unless the response has begun.
func (w *response) writeContinue() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.status != 0 || w.hijacked {
		return
	}
	bw := w.c.a.bw
	bw.WriteString("HTTP/1.1 100 Continue\r\n\r\n")
	_ = bw.Flush()
}

func (w *response) Write(p []byte) (int, error) {
	if w.hijacked {
		return 0, http.ErrHijacked
	}
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if len(p) == 0 {
		return 0, nil
	}
	if w.status == http.StatusNoContent || w.status == http.StatusNotModified {
		return 0, http.ErrBodyNotAllowed
	}
	if w.cl >= 0 && w.written+int64(len(p)) > w.cl {
		return 0, http.ErrContentLength
	}
	w.written += int64(len(p))
	if w.noBody {
		return len(p), nil // HEAD: counted for Content-Length, not sent
	}
	a := w.c.a
	if !w.committed {
		if w.cl < 0 && len(a.pend)+len(p) <= cap(a.pend) {
			a.pend = append(a.pend, p...)
			return len(p), nil
		}
		w.commit(false)
	}
	n, err := w.writeBody(p)
	if err == nil && w.written == w.cl {
		// The declared length is complete: the response goes out now, not
		// after the handler's remaining work (its log line, counters), as
		// nginx sends before its log phase. The client has its answer
		// sooner, and its next request is more often there when this
		// connection reads again.
		err = w.c.a.bw.Flush()
	}
	return n, err
}

func (w *response) writeBody(p []byte) (int, error) {
	bw := w.c.a.bw
	if w.chunked {
		// Appended in the writer's own buffer: no string to allocate.
		bw.Write(strconv.AppendInt(bw.AvailableBuffer(), int64(len(p)), 16))
		bw.WriteString("\r\n")
		n, err := bw.Write(p)
		bw.WriteString("\r\n")
		return n, err
	}
	return bw.Write(p)
}

// commit writes the head; final means the handler has returned, so a
// body in pend is the whole body and its length is known.
func (w *response) commit(final bool) {
	w.committed = true
	a := w.c.a
	h := a.header
	r := w.req
	switch {
	case w.cl >= 0:
	case final && w.noBody && w.written > 0:
		w.cl = w.written // HEAD: the length a GET would have had
	case w.noBody:
	case final:
		w.cl = int64(len(a.pend))
	case r.ProtoMinor == 1:
		w.chunked = true
	default:
		w.closeAfter = true // HTTP/1.0: the end of the body is the close
	}
	if r.Close || httpwire.HasToken(h["Connection"], "close") || w.c.lim.IdleTimeout <= 0 || w.c.srv.shuttingDown() || continueOwed(r) {
		w.closeAfter = true
	}
	bw := a.bw
	writeStatusLine(bw, r.ProtoMinor, w.status)
	writeFields(bw, h, true)
	if _, ok := h["Date"]; !ok {
		bw.WriteString("Date: ")
		bw.Write(httpDate())
		bw.WriteString("\r\n")
	}
	if w.cl >= 0 && w.status >= 200 && (w.status != http.StatusNoContent && w.status != http.StatusNotModified || w.cl > 0) {
		bw.WriteString("Content-Length: ")
		bw.Write(strconv.AppendInt(bw.AvailableBuffer(), w.cl, 10))
		bw.WriteString("\r\n")
	}
	if w.chunked {
		bw.WriteString("Transfer-Encoding: chunked\r\n")
	}
	conn := h["Connection"]
	switch {
	case w.closeAfter:
		bw.WriteString("Connection: close\r\n")
	case r.ProtoMinor == 0:
		bw.WriteString("Connection: keep-alive\r\n")
	}
	for _, v := range conn {
		if !strings.EqualFold(v, "close") && !strings.EqualFold(v, "keep-alive") {
			bw.WriteString("Connection: ")
			bw.WriteString(cleanValue(v))
			bw.WriteString("\r\n")
		}
	}
	bw.WriteString("\r\n")
	if len(a.pend) > 0 {
		p := a.pend
		a.pend = a.pend[:0]
		_, _ = w.writeBody(p)
	}
}

// continueOwed reports a body the client waits to be asked for: the
// answer came first, so the connection cannot be reused (net/http too).
func continueOwed(r *http.Request) bool {
	b, ok := r.Body.(*body)
	return ok && b.cont.Load()
}

// finish completes the response after the handler returned; it reports
// whether the framing allows another request on the connection.
func (w *response) finish() bool {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if !w.committed {
		w.commit(true)
	}
	bw := w.c.a.bw
	if w.chunked {
		bw.WriteString("0\r\n\r\n")
	}
	if err := bw.Flush(); err != nil {
		return false
	}
	// A body shorter than its announced length leaves the client
	// waiting for bytes that will never come; after a 101 without a
	// hijack, what follows is no longer HTTP/1.
	return !(w.cl >= 0 && !w.noBody && w.written < w.cl) && w.status != http.StatusSwitchingProtocols
}

// Flush sends what is buffered now (proxy_buffering off, server-sent
// events): the head goes out with a chunked (or close-delimited) body.
func (w *response) Flush() { _ = w.FlushError() }

func (w *response) FlushError() error {
	if w.hijacked {
		return http.ErrHijacked
	}
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if !w.committed {
		w.commit(false)
	}
	return w.c.a.bw.Flush()
}

// Hijack hands the connection over (WebSocket): buffered input goes with
// the returned reader, and the server forgets the connection.
func (w *response) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if w.hijacked {
		return nil, nil, http.ErrHijacked
	}
	c := w.c
	c.watch.end(c)
	_ = c.setReadDeadline(time.Time{}) // the hijacker's reads: none from the wait for the head
	a := c.a
	if w.status >= 200 && !w.committed {
		// A response begun and cut off (a backend body that broke): what
		// was written goes out, with framing that cannot end cleanly.
		w.commit(false)
	}
	if w.committed {
		if err := a.bw.Flush(); err != nil {
			return nil, nil, err
		}
	}
	w.hijacked = true
	c.state.Store(connDone)
	c.setState(http.StateHijacked)
	c.srv.untrack(c) // Shutdown does not wait for a WebSocket, as with net/http
	var rd io.Reader = c.nc
	if a.r < a.w {
		rest := bytes.Clone(a.buf[a.r:a.w])
		a.r, a.w = 0, 0
		rd = io.MultiReader(bytes.NewReader(rest), c.nc)
	}
	a.hijackedBW = true
	return c.nc, bufio.NewReadWriter(bufio.NewReader(rd), a.bw), nil
}

// SetReadDeadline and SetWriteDeadline are what http.ResponseController
// calls (client_body_timeout).
// (A hijacker may have set a deadline behind the server's back: its
// calls go to the socket as they are.)
func (w *response) SetReadDeadline(t time.Time) error {
	if w.hijacked {
		return w.c.nc.SetReadDeadline(t)
	}
	return w.c.setReadDeadline(t)
}

func (w *response) SetWriteDeadline(t time.Time) error { return w.c.nc.SetWriteDeadline(t) }

// EnableFullDuplex: reading the body while writing the response always
// works here.
func (w *response) EnableFullDuplex() error { return nil }
