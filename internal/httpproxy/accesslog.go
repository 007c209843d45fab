package httpproxy

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"bunsan/internal/config"
)

// combined is nginx's predefined log format.
const combined = `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"`

// logFormat is a compiled log_format: its variables are escaped as the
// format's escape= says when the line is written.
type logFormat struct {
	parts  []part
	escape string
}

// logFile is one open access log, shared by every location writing to
// the same path. Writes take a short lock; with buffer= the lines wait in
// memory until the buffer fills or flush= passes.
type logFile struct {
	mu    sync.Mutex
	f     *os.File
	w     *bufio.Writer // nil when unbuffered
	flush time.Duration
}

type logTarget struct {
	file   *logFile
	format *logFormat
	cond   *expr // access_log if=; nil = always
}

// openLogs holds every access log file opened by any snapshot, by path,
// for the life of the process: a reload reuses the open file instead of
// leaking or racing a close with requests still logging on the old
// snapshot.
var openLogs = struct {
	sync.Mutex
	m map[string]*logFile
}{m: map[string]*logFile{}}

// FlushLogs writes out buffered access log lines; call it before exit.
func FlushLogs() {
	openLogs.Lock()
	defer openLogs.Unlock()
	for _, f := range openLogs.m {
		f.mu.Lock()
		if f.w != nil {
			_ = f.w.Flush()
		}
		f.mu.Unlock()
	}
}

// ReopenLogs reopens every access log file at its path, for log rotation
// (nginx's -s reopen, SIGUSR1): lines written after it go to the new file.
func ReopenLogs() error {
	openLogs.Lock()
	defer openLogs.Unlock()
	var first error
	for path, f := range openLogs.m {
		if f.f == os.Stderr {
			continue
		}
		nf, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			if first == nil {
				first = fmt.Errorf("reopening access log: %w", err)
			}
			continue
		}
		f.mu.Lock()
		if f.w != nil {
			_ = f.w.Flush()
			f.w.Reset(nf)
		}
		old := f.f
		f.f = nf
		f.mu.Unlock()
		_ = old.Close()
	}
	return first
}

// logSet is the access logs of one snapshot: the targets for each
// location configuration.
type logSet struct {
	formats map[string]*logFormat
	targets map[*config.Settings][]logTarget
	def     []logTarget
	prefix  string
	// defaultFailed records that logs/access.log could not be opened.
	defaultFailed bool
	vars          *varScope
}

func newLogSet(m *config.Model, sc *varScope) (*logSet, error) {
	ls := &logSet{vars: sc, formats: map[string]*logFormat{}, targets: map[*config.Settings][]logTarget{}, prefix: m.Prefix}
	f, err := compileLogFormat(config.LogFormat{Escape: "default", Text: combined}, sc)
	if err != nil {
		return nil, err
	}
	ls.formats["combined"] = f
	for name, lf := range m.HTTP.LogFormats {
		f, err := compileLogFormat(lf, sc)
		if err != nil {
			return nil, fmt.Errorf("log_format %s: %w", name, err)
		}
		ls.formats[name] = f
	}
	return ls, nil
}

func compileLogFormat(lf config.LogFormat, sc *varScope) (*logFormat, error) {
	e, err := compileExpr(lf.Text, sc)
	if err != nil {
		return nil, err
	}
	return &logFormat{parts: e.parts, escape: lf.Escape}, nil
}

// targetsFor opens (once) the files a location's settings name.
func (ls *logSet) targetsFor(s *config.Settings) ([]logTarget, error) {
	if t, ok := ls.targets[s]; ok {
		return t, nil
	}
	var out []logTarget
	if !s.AccessLogOff {
		logs := s.AccessLogs
		implicit := len(logs) == 0
		if implicit {
			logs = []config.HTTPAccessLog{{Path: filepath.Join(ls.prefix, "logs", "access.log"), Format: "combined"}}
		}
		for _, al := range logs {
			f, err := ls.open(al)
			if err != nil && implicit {
				// The default log is a convenience: an unwritable prefix
				// (bunsan demo as a user) must not stop the configuration.
				ls.defaultFailed = true
				continue
			}
			if err != nil {
				return nil, err
			}
			t := logTarget{file: f, format: ls.formats[al.Format]}
			if al.If != "" {
				if t.cond, err = compileExpr(al.If, ls.vars); err != nil {
					return nil, fmt.Errorf("access_log if=: %w", err)
				}
			}
			out = append(out, t)
		}
	}
	ls.targets[s] = out
	return out, nil
}

func (ls *logSet) open(al config.HTTPAccessLog) (*logFile, error) {
	openLogs.Lock()
	defer openLogs.Unlock()
	if f, ok := openLogs.m[al.Path]; ok {
		return f, nil
	}
	var f *os.File
	if al.Path == "stderr" {
		f = os.Stderr
	} else {
		var err error
		// The directory is made if missing (nginx would refuse to start),
		// as bunsan also makes logs/ for its pid file.
		_ = os.MkdirAll(filepath.Dir(al.Path), 0o755)
		if f, err = os.OpenFile(al.Path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644); err != nil {
			return nil, fmt.Errorf("access_log: %w", err)
		}
	}
	lf := &logFile{f: f}
	if al.Buffer > 0 {
		lf.w = bufio.NewWriterSize(f, int(al.Buffer))
		lf.flush = al.Flush
		go lf.flusher()
	}
	openLogs.m[al.Path] = lf
	return lf, nil
}

// flusher writes out buffered lines every flush interval, so that a quiet
// server's last lines are not held back for long.
func (f *logFile) flusher() {
	t := time.NewTicker(f.flush)
	for range t.C {
		f.mu.Lock()
		_ = f.w.Flush()
		f.mu.Unlock()
	}
}

func (f *logFile) write(line []byte) {
	f.mu.Lock()
	if f.w != nil {
		_, _ = f.w.Write(line)
	} else {
		_, _ = f.f.Write(line)
	}
	f.mu.Unlock()
}

// close flushes buffered lines; the files stay open for the next
// snapshot.
func (ls *logSet) close() { FlushLogs() }

var linePool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// write logs the request to the location's access logs (the server's when
// no location matched).
func (ls *logSet) write(c *reqCtx, loc *location) {
	if ls == nil {
		return
	}
	var targets []logTarget
	switch {
	case loc != nil:
		targets = loc.logs
	case c.srv != nil:
		targets = c.srv.logs
	default:
		targets = ls.def
	}
	if len(targets) == 0 {
		return
	}
	bp := linePool.Get().(*[]byte)
	for _, t := range targets {
		if t.cond != nil {
			if v := t.cond.String(c); v == "" || v == "0" {
				continue
			}
		}
		line := t.format.render(c, (*bp)[:0])
		t.file.write(line)
		*bp = line
	}
	linePool.Put(bp)
}

// render appends one log line, escaping variable values as nginx does:
// by default '"', '\' and bytes outside printable ASCII as \xHH; with
// escape=json as JSON string content.
func (f *logFormat) render(c *reqCtx, dst []byte) []byte {
	var tmp [128]byte
	for _, p := range f.parts {
		if p.get == nil {
			dst = append(dst, p.lit...)
			continue
		}
		v := p.get(c, tmp[:0])
		switch f.escape {
		case "json":
			dst = appendJSONEscaped(dst, v)
		case "none":
			dst = append(dst, v...)
		default:
			if len(v) == 0 {
				dst = append(dst, '-')
				continue
			}
			dst = appendDefaultEscaped(dst, v)
		}
	}
	return append(dst, '\n')
}

func appendDefaultEscaped(dst, v []byte) []byte {
	const hex = "0123456789ABCDEF"
	for _, ch := range v {
		if ch == '"' || ch == '\\' || ch < 0x20 || ch >= 0x7f {
			dst = append(dst, '\\', 'x', hex[ch>>4], hex[ch&15])
			continue
		}
		dst = append(dst, ch)
	}
	return dst
}

func appendJSONEscaped(dst, v []byte) []byte {
	const hex = "0123456789abcdef"
	for _, ch := range v {
		switch {
		case ch == '"' || ch == '\\':
			dst = append(dst, '\\', ch)
		case ch == '\n':
			dst = append(dst, '\\', 'n')
		case ch == '\r':
			dst = append(dst, '\\', 'r')
		case ch == '\t':
			dst = append(dst, '\\', 't')
		case ch < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hex[ch>>4], hex[ch&15])
		default:
			dst = append(dst, ch)
		}
	}
	return dst
}
