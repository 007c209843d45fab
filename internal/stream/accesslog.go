package stream

import (
	"os"
	"sync"
	"sync/atomic"
)

// logFile is an access log file shared by every server and snapshot that
// names it; each line is one write to a file opened for appending, so
// lines from concurrent sessions do not interleave.
type logFile struct {
	path string
	f    atomic.Pointer[os.File] // swapped by reopen
}

// logFiles opens each path once and keeps it open across reloads.
type logFiles struct {
	mu sync.Mutex
	m  map[string]*logFile
}

func (lf *logFiles) open(path string) (*logFile, error) {
	lf.mu.Lock()
	defer lf.mu.Unlock()
	if lf.m == nil {
		lf.m = map[string]*logFile{}
	}
	if f := lf.m[path]; f != nil {
		return f, nil
	}
	var f *os.File
	if path == "stderr" {
		f = os.Stderr
	} else {
		var err error
		f, err = os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			return nil, err
		}
	}
	l := &logFile{path: path}
	l.f.Store(f)
	lf.m[path] = l
	return l, nil
}

// reopen opens every log file anew at its path (after logrotate moved
// it), as nginx does on USR1. A file that cannot be opened keeps the old
// one; the first error is returned.
func (lf *logFiles) reopen() error {
	lf.mu.Lock()
	defer lf.mu.Unlock()
	var first error
	for path, l := range lf.m {
		if path == "stderr" {
			continue
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			if first == nil {
				first = err
			}
			continue
		}
		// A write in progress on the old file finishes first: Go's file
		// close waits for it.
		l.f.Swap(f).Close()
	}
	return first
}

// logRef is one access_log of a server.
type logRef struct {
	file *logFile
	tmpl *template
	cond *template // if=: nil = always
}

// writeLogs appends the session's line to each access log.
func writeLogs(s *session, logs []logRef) {
	for _, l := range logs {
		if l.cond != nil {
			if v := string(l.cond.eval(s, nil)); v == "" || v == "0" {
				continue
			}
		}
		line := l.tmpl.eval(s, make([]byte, 0, 256))
		line = append(line, '\n')
		l.file.f.Load().Write(line)
	}
}
