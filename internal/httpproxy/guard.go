package httpproxy

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"bunsan/internal/config"
	"bunsan/internal/h1server"
)

// The guard sits between a client connection and Go's HTTP server and
// reads every request head and body framing before net/http sees a byte
// of it. Go's server, as it comes, accepts what nginx and bunsan must
// not: Content-Length together with Transfer-Encoding (it silently drops
// the length), bare LF line ends, folded header lines, obfuscated
// Transfer-Encoding values and duplicate Content-Length. A request the
// guard refuses never reaches the handler as written: the guard replaces
// it with a small synthetic request carrying a marker header (its name is
// random per process, and clients sending anything like it are refused),
// the handler answers with the marker's status and "Connection: close",
// and the guard then ends the stream, so the framing that could no longer
// be trusted is never read.

// Limits are the per-connection settings nginx takes from the default
// server of an address; the server package owns them.
type Limits = h1server.Limits

// DefaultLimits are nginx's defaults.
func DefaultLimits() Limits { return h1server.DefaultLimits() }

func limitsOf(s *config.Settings) Limits {
	l := Limits{
		HeaderBufSize: int(s.LargeHeaderBuffers.Size), HeaderBufNum: s.LargeHeaderBuffers.Number,
		HeaderTimeout: s.ClientHeaderTimeout, IdleTimeout: s.KeepaliveTimeout,
		BodyTimeout: s.ClientBodyTimeout, MaxRequests: s.KeepaliveRequests,
	}
	if l.HeaderBufSize == 0 || l.HeaderBufNum == 0 {
		d := DefaultLimits()
		l.HeaderBufSize, l.HeaderBufNum = d.HeaderBufSize, d.HeaderBufNum
	}
	return l
}

// markerName is the header of synthetic requests that carry a refusal.
var markerName = func() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return textproto.CanonicalMIMEHeaderKey("X-Bunsan-Reject-" + hex.EncodeToString(b[:]))
}()

// rejectedCode returns the status of a refused request, or 0.
func rejectedCode(r *http.Request) int {
	v, ok := r.Header[markerName]
	if !ok || len(v) != 1 {
		return 0
	}
	code, _ := strconv.Atoi(v[0])
	return code
}

// GuardListener wraps a plain-text listener so that every accepted
// connection is guarded with the limits current at accept time.
func GuardListener(ln net.Listener, limits func() Limits) net.Listener {
	return &guardListener{Listener: ln, limits: limits}
}

type guardListener struct {
	net.Listener
	limits func() Limits
}

func (l *guardListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	g := newGuardConn(c, l.limits())
	g.limits = l.limits
	return g, nil
}

// guardConn releases bytes to net/http only once they are validated: a
// whole request head, then exactly the body its framing announces.
type guardConn struct {
	net.Conn
	lim  Limits
	in   []byte // read from the client, not yet validated
	out  []byte // validated, waiting for net/http
	st   framing
	left int64 // bytes of body (or of the current chunk) still to pass
	eof  bool  // after a refusal: nothing more is read
	err  error // sticky error from the client or a framing violation
	rbuf []byte
	// limits returns the settings current now (they follow reloads);
	// headClock is set while a head's client_header_timeout runs.
	limits    func() Limits
	headClock bool
	// raw is set once the connection switched protocols: bytes pass
	// unchecked from then on.
	raw atomic.Bool
	// tlsState is the handshake's result when the guard sits on a TLS
	// connection (GuardTLSListener); the handler reports it as r.TLS.
	tlsState *tls.ConnectionState

	// Read deadlines: net/http sets its own (idle wait, header, abort of
	// a background read); the guard adds client_header_timeout from the
	// first byte of each head, because net/http only starts its header
	// clock once the guard has released a whole head. dlMu guards both.
	dlMu   sync.Mutex
	goDL   time.Time // the last deadline net/http set
	headDL time.Time // the guard's, while a head is incomplete
}

// SetReadDeadline records net/http's deadline and applies the effective
// one.
func (g *guardConn) SetReadDeadline(t time.Time) error {
	g.dlMu.Lock()
	defer g.dlMu.Unlock()
	g.goDL = t
	return g.applyDeadline()
}

func (g *guardConn) SetDeadline(t time.Time) error {
	if err := g.Conn.SetWriteDeadline(t); err != nil {
		return err
	}
	return g.SetReadDeadline(t)
}

// applyDeadline: a deadline net/http set in the past (to abort a read)
// always wins; otherwise the head's deadline, while one runs, replaces
// the idle deadline the head's first byte ended.
func (g *guardConn) applyDeadline() error {
	dl := g.goDL
	if !g.headDL.IsZero() && (dl.IsZero() || dl.After(time.Now())) {
		dl = g.headDL
	}
	return g.Conn.SetReadDeadline(dl)
}

// setHeadDeadline starts (or, with the zero time, ends) the head clock.
func (g *guardConn) setHeadDeadline(t time.Time) {
	g.dlMu.Lock()
	g.headDL = t
	_ = g.applyDeadline()
	g.dlMu.Unlock()
}

// passThrough stops HTTP framing checks after a protocol switch (101).
// The handler calls it after hijacking, when net/http no longer reads.
func (g *guardConn) passThrough() {
	g.out = append(g.out, g.in...)
	g.in = nil
	g.raw.Store(true)
}

type framing int

const (
	inHead framing = iota
	inBody
	inChunkSize
	inChunkData
	inChunkCRLF
	inTrailer
)

// errBadFraming is the body error the proxy answers with 400 and a
// closed connection, from the guard or from h1server alike.
var errBadFraming = h1server.ErrBadFraming

// checkHead applies h1server's head rules, the one set both paths use.
func checkHead(head []byte, lim Limits) (h1server.HeadInfo, int) {
	return h1server.CheckHead(head, lim)
}

func newGuardConn(c net.Conn, lim Limits) *guardConn {
	return &guardConn{Conn: c, lim: lim, rbuf: make([]byte, 4096), limits: func() Limits { return lim }}
}

func (g *guardConn) Read(p []byte) (int, error) {
	if g.raw.Load() && len(g.out) == 0 {
		return g.Conn.Read(p)
	}
	for len(g.out) == 0 {
		if g.eof {
			return 0, io.EOF
		}
		if g.err != nil {
			return 0, g.err
		}
		if progressed := g.step(); progressed {
			continue
		}
		// More input is needed.
		n, err := g.Conn.Read(g.rbuf)
		g.in = append(g.in, g.rbuf[:n]...)
		if err != nil {
			if n == 0 {
				// Kept for later reads: a timeout caused by net/http's
				// aborting a background read is not the end.
				return 0, err
			}
		}
	}
	n := copy(p, g.out)
	g.out = g.out[n:]
	if len(g.out) == 0 {
		g.out = nil
	}
	return n, nil
}

// step advances the framing over buffered input; false means it needs
// more bytes.
func (g *guardConn) step() bool {
	switch g.st {
	case inHead:
		return g.stepHead()
	case inBody, inChunkData:
		if len(g.in) == 0 {
			return false
		}
		k := int64(len(g.in))
		if k > g.left {
			k = g.left
		}
		g.pass(int(k))
		g.left -= k
		if g.left == 0 {
			if g.st == inBody {
				g.st = inHead
			} else {
				g.st = inChunkCRLF
			}
		}
		return true
	case inChunkCRLF:
		if len(g.in) < 2 {
			return false
		}
		if g.in[0] != '\r' || g.in[1] != '\n' {
			g.err = errBadFraming
			return true
		}
		g.pass(2)
		g.st = inChunkSize
		return true
	case inChunkSize:
		i := bytes.IndexByte(g.in, '\n')
		if i < 0 {
			if len(g.in) > 4096 {
				g.err = errBadFraming
				return true
			}
			return false
		}
		size, ok := h1server.ParseChunkSize(g.in[:i+1])
		if !ok {
			g.err = errBadFraming
			return true
		}
		g.pass(i + 1)
		if size == 0 {
			g.st = inTrailer
		} else {
			g.st, g.left = inChunkData, size
		}
		return true
	case inTrailer:
		i := bytes.IndexByte(g.in, '\n')
		if i < 0 {
			if len(g.in) > g.lim.HeaderBufSize {
				g.err = errBadFraming
				return true
			}
			return false
		}
		line := g.in[:i+1]
		if !h1server.CheckTrailerLine(line) {
			g.err = errBadFraming
			return true
		}
		g.pass(i + 1)
		if i == 1 {
			g.st = inHead
		}
		return true
	}
	return false
}

// pass moves n validated bytes from in to out.
func (g *guardConn) pass(n int) {
	g.out = append(g.out, g.in[:n]...)
	g.in = g.in[n:]
	if len(g.in) == 0 {
		g.in = g.in[:0:0]
	}
}

func (g *guardConn) stepHead() bool {
	// Empty lines before a request line are ignored, as nginx does.
	for len(g.in) >= 2 && g.in[0] == '\r' && g.in[1] == '\n' {
		g.in = g.in[2:]
	}
	// HTTP/2 with prior knowledge (h2c, "listen ... http2") starts with
	// its preface; its framing is binary and Go's HTTP/2 server checks it.
	if n := min(len(g.in), len(h2Preface)); n > 0 && string(g.in[:n]) == h2Preface[:n] {
		if n < len(h2Preface) {
			return false
		}
		g.passThrough()
		return true
	}
	end := bytes.Index(g.in, []byte("\r\n\r\n"))
	if end < 0 && len(g.in) > 0 && !g.headClock {
		g.headClock = true
		if d := g.limits().HeaderTimeout; d > 0 {
			g.setHeadDeadline(time.Now().Add(d))
		}
	}
	if end >= 0 && g.headClock {
		g.headClock = false
		g.setHeadDeadline(time.Time{})
	}
	if end < 0 {
		if code := g.earlyLimit(); code != 0 {
			g.refuse(code)
			return true
		}
		return false
	}
	head := g.in[:end+4]
	h, code := checkHead(head, g.lim)
	if code != 0 {
		g.refuse(code)
		return true
	}
	g.pass(len(head))
	switch {
	case h.Chunked:
		g.st = inChunkSize
	case h.Length > 0:
		g.st, g.left = inBody, h.Length
	}
	return true
}

// earlyLimit refuses a head that cannot fit before it is complete.
func (g *guardConn) earlyLimit() int { return h1server.EarlyLimit(g.in, g.lim) }

// refuse replaces the rest of the stream with a synthetic request that
// tells the handler which status to answer.
func (g *guardConn) refuse(code int) {
	g.in = nil
	g.out = append(g.out, refusalHead(code)...)
	g.eof = true
}

const h2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
