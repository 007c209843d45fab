package stream

import (
	"os"
	"sync"
)

// logFile is an access log file shared by every server and snapshot that
// names it; each line is one write to a file opened for appending, so
// lines from concurrent sessions do not interleave.
type logFile struct {
	f *os.File
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
	l := &logFile{f: f}
	lf.m[path] = l
	return l, nil
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
		l.file.f.Write(line)
	}
}
