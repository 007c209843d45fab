package httpproxy

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"regexp"
	"sync"
	"time"

	"bunsan/internal/h1client"
)

// reqCtx is everything one request carries through the data path: the
// request, the response as written so far, regex captures, the upstream
// attempts and timings. Variables evaluate against it, so $status,
// $upstream_addr and $request_time read what the proxy recorded instead
// of recomputing it. It is pooled; nothing may keep it after the
// request's log line is written.
type reqCtx struct {
	r     *http.Request
	w     *respWriter
	start time.Time
	conn  *connInfo
	srv   *vserver
	// uri is the normalised path ($uri) that locations matched.
	uri string
	// caps are the captures of the last regex that matched (server_name,
	// then location, as nginx keeps the most recent); caps[0] is the match.
	caps  []string
	capRe *regexp.Regexp // the regex caps came from, for named captures
	// srvCaps and srvRe are the server_name regex's captures: named ones
	// stay variables after a location regex replaced $1…, as in nginx.
	srvCaps []string
	srvRe   *regexp.Regexp
	// proxyHost is $proxy_host of the location's proxy_pass.
	proxyHost string
	attempts  []attempt
	// upHeader is the answering backend's response header, for
	// $upstream_http_* and $upstream_cookie_*.
	upHeader http.Header
	// upHeaders are the header maps of every backend response this
	// request got (retries and error_page included), handed back to
	// h1client by release: until the log line is written they may be
	// read ($upstream_http_*); the client's response holds only their
	// value slices, which are not reused.
	upHeaders []http.Header
	// vals holds the values of set and map variables by slot; ok marks
	// which were computed (map results are computed on first use).
	vals []string
	ok   []bool
	id   [32]byte
	idOK bool
	// inErrorPage is set once error_page redirected the request, so that
	// an error in its target does not redirect again.
	inErrorPage bool
	s           *Snapshot
	// peer is the connection's address, before real_ip replaced it.
	peer string
}

func (c *reqCtx) snap() *Snapshot { return c.s }

// attempt is one try on an upstream server, for $upstream_* variables
// and the error log.
type attempt struct {
	addr    string
	status  int // 0 when no response header was read
	connect time.Duration
	header  time.Duration
	total   time.Duration
}

var ctxPool = sync.Pool{New: func() any { return &reqCtx{w: &respWriter{}} }}

func newReqCtx(w http.ResponseWriter, r *http.Request, nvars int) *reqCtx {
	c := ctxPool.Get().(*reqCtx)
	c.r = r
	c.w.reset(w)
	c.start = time.Now()
	c.conn = connFrom(r)
	if cap(c.vals) < nvars {
		c.vals, c.ok = make([]string, nvars), make([]bool, nvars)
	}
	c.vals, c.ok = c.vals[:nvars], c.ok[:nvars]
	clear(c.ok)
	return c
}

func (c *reqCtx) release() {
	c.r, c.srv, c.caps, c.capRe, c.conn = nil, nil, nil, nil, nil
	c.srvCaps, c.srvRe = nil, nil
	c.uri, c.proxyHost, c.upHeader = "", "", nil
	c.attempts = c.attempts[:0]
	for i, h := range c.upHeaders {
		h1client.ReleaseHeader(h)
		c.upHeaders[i] = nil
	}
	c.upHeaders = c.upHeaders[:0]
	c.idOK, c.inErrorPage, c.s = false, false, nil
	c.w.reset(nil)
	ctxPool.Put(c)
}

// requestID is $request_id: 16 random bytes in hex, made once per request.
func (c *reqCtx) requestID() []byte {
	if !c.idOK {
		var b [16]byte
		_, _ = rand.Read(b[:])
		hex.Encode(c.id[:], b[:])
		c.idOK = true
	}
	return c.id[:]
}

// respWriter records the status and the bytes sent for the log and the
// variables. Unwrap lets http.ResponseController reach Flush and Hijack.
type respWriter struct {
	rw          http.ResponseWriter
	status      int
	force       int // error_page's status, replacing the one written
	bodyBytes   int64
	headerBytes int64
}

func (w *respWriter) reset(rw http.ResponseWriter) {
	*w = respWriter{rw: rw}
}

func (w *respWriter) Header() http.Header { return w.rw.Header() }

func (w *respWriter) WriteHeader(code int) {
	if w.force != 0 && code >= 200 && w.status == 0 {
		code = w.force
	}
	if w.status == 0 && code >= 200 || code == http.StatusSwitchingProtocols {
		w.status = code
		// An estimate of the header's size on the wire for $bytes_sent:
		// status line plus "Name: value\r\n" per field.
		n := int64(len("HTTP/1.1 200 ") + len(http.StatusText(code)) + 4)
		for k, vv := range w.rw.Header() {
			for _, v := range vv {
				n += int64(len(k) + len(v) + 4)
			}
		}
		w.headerBytes = n
	}
	w.rw.WriteHeader(code)
}

func (w *respWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	n, err := w.rw.Write(p)
	w.bodyBytes += int64(n)
	return n, err
}

func (w *respWriter) Unwrap() http.ResponseWriter { return w.rw }

// Flush is here as well as through Unwrap because io.Copy-style callers
// check for http.Flusher directly.
func (w *respWriter) Flush() { _ = http.NewResponseController(w.rw).Flush() }
