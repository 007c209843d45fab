package httpproxy

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"time"

	"bunsan/internal/config"
)

// reqBody is the client's request body as the proxy sends it: read whole
// into memory first (proxy_request_buffering on, nginx's default), so
// that a retry can send it again, or streamed (off), so that it cannot.
type reqBody struct {
	buf    []byte // buffered body; nil when streaming or empty
	stream *limitedBody
}

func (b *reqBody) replayable() bool { return b.stream == nil }
func (b *reqBody) touched() bool    { return b.stream != nil && b.stream.read }

// readBody applies client_max_body_size and, when buffering, reads the
// body. It returns a status to answer with (413, 400, 408) or 0.
func readBody(c *reqCtx, p *config.Proxy, bodyTimeout time.Duration) (*reqBody, int) {
	r := c.r
	limit := p.ClientMaxBody // 0 means no limit, as in nginx
	if limit > 0 && r.ContentLength > limit {
		return nil, http.StatusRequestEntityTooLarge
	}
	if r.ContentLength == 0 || r.Body == nil || r.Body == http.NoBody {
		return &noBody, 0
	}
	lb := &limitedBody{rc: r.Body, left: limit, limited: limit > 0, timeout: bodyTimeout}
	if bodyTimeout > 0 && c.w.rw != nil {
		lb.ctl = http.NewResponseController(c.w.rw)
	}
	if !p.RequestBuffering {
		return &reqBody{stream: lb}, 0
	}
	var buf bytes.Buffer
	if r.ContentLength > 0 {
		buf.Grow(int(r.ContentLength))
	}
	_, err := buf.ReadFrom(lb)
	lb.clearDeadline()
	if err != nil {
		if errors.Is(err, errBodyTooLarge) {
			return nil, http.StatusRequestEntityTooLarge
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			c.w.Header().Set("Connection", "close")
			return nil, http.StatusRequestTimeout // client_body_timeout
		}
		if r.Context().Err() != nil && !errors.Is(err, errBadFraming) {
			return nil, 499
		}
		// A broken chunked body or a client that stopped sending: the
		// connection's framing can no longer be trusted.
		c.w.Header().Set("Connection", "close")
		return nil, http.StatusBadRequest
	}
	return &reqBody{buf: buf.Bytes()}, 0
}

// noBody is every bodiless request's reqBody; nothing writes to it.
var noBody reqBody

var errBodyTooLarge = errors.New("request body larger than client_max_body_size")

// limitedBody enforces client_max_body_size on a body of unknown length
// (chunked) while it is read, and remembers that it was read.
type limitedBody struct {
	rc      io.ReadCloser
	left    int64
	limited bool
	read    bool
	// timeout is client_body_timeout, applied between two reads through
	// the connection's read deadline.
	timeout time.Duration
	ctl     *http.ResponseController
}

// clearDeadline removes the body read deadline once the body is read, so
// that net/http's background read of an idle connection is not cut
// while the response is still being proxied.
func (b *limitedBody) clearDeadline() {
	if b.ctl != nil {
		_ = b.ctl.SetReadDeadline(time.Time{})
	}
}

func (b *limitedBody) Read(p []byte) (int, error) {
	b.read = true
	if b.ctl != nil {
		_ = b.ctl.SetReadDeadline(time.Now().Add(b.timeout))
	}
	if b.limited && int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.rc.Read(p)
	if err != nil {
		b.clearDeadline()
	}
	if b.limited {
		b.left -= int64(n)
		if b.left < 0 {
			return n, errBodyTooLarge
		}
	}
	return n, err
}

// Close does not close the client's body on behalf of a failed round
// trip; net/http closes it when the handler returns.
func (b *limitedBody) Close() error { return nil }

// attach sets the outgoing request's body for the first attempt and
// GetBody for the others.
func (b *reqBody) attach(out *http.Request) {
	switch {
	case b.stream != nil:
		out.Body = b.stream
		out.GetBody = nil
	case b.buf != nil:
		buf := b.buf
		out.ContentLength = int64(len(buf))
		out.Body = io.NopCloser(bytes.NewReader(buf))
		out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf)), nil }
	default:
		out.Body, out.GetBody, out.ContentLength = nil, nil, 0
	}
}
