package upstream

import (
	"errors"
	"time"
)

// ErrNoLiveUpstreams is returned by Pick when no server can take the
// request: every primary and backup server is down, failed, full, draining
// or already tried. The HTTP proxy answers 502, as nginx does after
// logging "no live upstreams".
var ErrNoLiveUpstreams = errors.New("no live upstreams")

// Result says how one attempt on a server ended.
type Result int

// The results an attempt can report through Done.
const (
	// Success: a response was received and is being (or was) passed on.
	Success Result = iota
	// ConnectError: the connection could not be established. A failure.
	ConnectError
	// Timeout: connect, send or read timed out. A failure.
	Timeout
	// InvalidHeader: the server answered with an empty or invalid header.
	// A failure.
	InvalidHeader
	// BadStatus: a status that proxy_next_upstream names (http_500, …).
	// A failure, as in nginx; the caller decides which statuses count and
	// must not report 403 and 404 this way (report Next instead).
	BadStatus
	// Aborted: the client went away. Not the server's failure.
	Aborted
	// Next: the attempt is abandoned for a reason that is not a failure of
	// the server (nginx's NGX_PEER_NEXT: http_403, http_404,
	// non_idempotent). Counts neither as failure nor in latency averages.
	Next
)

var resultNames = [...]string{"success", "connect_error", "timeout", "invalid_header", "bad_status", "aborted", "next"}

func (r Result) String() string {
	if r >= 0 && int(r) < len(resultNames) {
		return resultNames[r]
	}
	return "result(" + itoa(int64(r)) + ")"
}

// Failed reports whether the result counts against max_fails.
func (r Result) Failed() bool {
	return r == ConnectError || r == Timeout || r == InvalidHeader || r == BadStatus
}

// Outcome is what the data path reports for one attempt. Times are
// measured from the start of the attempt; zero means not reached.
type Outcome struct {
	Result       Result
	ConnectTime  time.Duration
	HeaderTime   time.Duration // until the response header was read
	ResponseTime time.Duration // until the last byte was read
	// Status is the HTTP status received (0 for none, and for streams);
	// the API counts responses by class from it.
	Status int
}

func itoa(n int64) string {
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}
