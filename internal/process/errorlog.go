package process

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
)

// ErrorLog is the error_log destination: stderr or a file that can be
// reopened after logrotate moves it (SIGUSR1).
type ErrorLog struct {
	mu   sync.Mutex
	path string
	f    *os.File
	out  io.Writer
}

// OpenErrorLog opens path ("stderr" for standard error) for appending.
func OpenErrorLog(path string) (*ErrorLog, error) {
	l := &ErrorLog{path: path}
	return l, l.Reopen()
}

// Reopen opens the file again by name, so that writes go to the new file
// after a rotation.
func (l *ErrorLog) Reopen() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.path == "" || l.path == "stderr" {
		l.out = os.Stderr
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(l.path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	if l.f != nil {
		l.f.Close()
	}
	l.f, l.out = f, f
	return nil
}

func (l *ErrorLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.out.Write(p)
}

// Close closes the file, if one is open.
func (l *ErrorLog) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f != nil {
		return l.f.Close()
	}
	return nil
}

// Level maps nginx's error_log levels to slog's.
func Level(name string) slog.Level {
	switch name {
	case "debug":
		return slog.LevelDebug
	case "info", "notice":
		return slog.LevelInfo
	case "warn":
		return slog.LevelWarn
	}
	return slog.LevelError
}
