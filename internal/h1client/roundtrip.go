package h1client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"syscall"
	"time"

	"bunsan/internal/httpwire"
)

// Info is what a round trip reports besides the response.
type Info struct {
	// Reused is set when the request went on a kept-alive connection;
	// Connect is then 0, as nginx's $upstream_connect_time shows it.
	Reused  bool
	Connect time.Duration
	// Start is when the round trip began, for the caller's timings.
	Start time.Time
}

// RoundTrip sends req to addr and reads the response head; the body is
// read by the caller, and the connection is pooled once it ends. The
// request's target is req.URL.Opaque and RawQuery, its Host req.Host.
//
// ctx ending (the client went away) closes the connection and makes the
// round trip, or a read of the body, fail with the context's error.
//
// A kept-alive connection that fails before any byte of the response
// arrived (the backend closed it while it sat idle) costs nothing: the
// request is sent once more on a new connection when that is safe (none
// of it was written, or its method is idempotent; a backend that crashed
// on a POST must not get it twice) and its body can be sent again (none,
// or GetBody), as Go's Transport did.
func (p *Pool) RoundTrip(ctx context.Context, addr string, req *http.Request) (*http.Response, Info, error) {
	// One clock reading serves the idle check, the first deadlines and
	// the caller's timings.
	info := Info{Start: time.Now()}
	c := p.take(addr, info.Start, retryable(req))
	if c == nil {
		var err error
		if c, err = p.connect(ctx, addr); err != nil {
			return nil, info, err
		}
		info.Connect = time.Since(info.Start)
	} else {
		info.Reused = true
		c.rclock, c.wclock = info.Start, info.Start
	}
	resp, err := c.roundTrip(ctx, req, p.opts.HTTP10)
	if err == nil || !info.Reused || c.nread > 0 || !stale(err) || ctx.Err() != nil || (c.nwritten > 0 && !httpwire.Idempotent(req.Method)) {
		return resp, info, err
	}
	again, ok := rewind(req)
	if !ok {
		return nil, info, err
	}
	start := time.Now()
	if c, err = p.connect(ctx, addr); err != nil {
		return nil, info, err
	}
	info = Info{Start: info.Start, Connect: time.Since(start)}
	resp, err = c.roundTrip(ctx, again, p.opts.HTTP10)
	return resp, info, err
}

// roundTrip runs one exchange on c; on failure c is closed.
func (c *conn) roundTrip(ctx context.Context, req *http.Request, http10 bool) (*http.Response, error) {
	c.watch(ctx)
	err := c.writeRequest(req, http10)
	if err != nil && earlyAnswerPossible(c, err) {
		// The backend may have answered before reading the whole body
		// (a 413, say) and closed: its answer is still in the socket.
		if resp, rerr := c.readResponse(req, true); rerr == nil {
			return resp, nil
		}
	}
	if err != nil {
		c.finish(false)
		return nil, fmt.Errorf("sending request to upstream: %w", err)
	}
	// The backend needs a moment to answer; letting the other requests
	// run first means the read usually finds the answer there, instead of
	// a failed read, a park and a wake-up (measured: ~9% less CPU per
	// small request under load; nothing else to run, it returns at once).
	runtime.Gosched()
	resp, err := c.readResponse(req, http10 || req.Close)
	if err != nil {
		c.finish(false)
		if err == io.EOF && c.nread == 0 {
			return nil, fmt.Errorf("upstream closed the connection before responding: %w", err)
		}
		return nil, fmt.Errorf("reading response header from upstream: %w", err)
	}
	return resp, nil
}

// earlyAnswerPossible: the connection broke under a write (not a timeout,
// a cancel, or the request's own fault), so reading cannot block.
func earlyAnswerPossible(c *conn, err error) bool {
	var be *bodyError
	return !c.aborted.Load() && !errors.As(err, &be) && !errors.Is(err, ErrInvalidRequest) &&
		(errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET))
}

// stale is how a kept-alive connection the backend closed fails.
func stale(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNABORTED)
}

// retryable says a failure on a kept-alive connection before any byte
// of the response can be answered by sending req again on a new one
// (RoundTrip's rule, decided before the round trip).
func retryable(req *http.Request) bool {
	return httpwire.Idempotent(req.Method) && replayable(req)
}

// replayable says req's body can be sent again: it has none, or GetBody.
func replayable(req *http.Request) bool {
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}

// rewind returns req ready to be sent again, or false when its body is
// gone.
func rewind(req *http.Request) (*http.Request, bool) {
	if req.Body == nil || req.Body == http.NoBody {
		return req, true
	}
	if !replayable(req) {
		return nil, false
	}
	b, err := req.GetBody()
	if err != nil {
		return nil, false
	}
	again := *req
	again.Body = b
	return &again, true
}
