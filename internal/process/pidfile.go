package process

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// writePID writes the pid file as nginx does: the decimal pid and a
// newline, created with its directory if needed.
func writePID(path string) error {
	if path == "" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("pid file: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		return fmt.Errorf("pid file: %w", err)
	}
	return os.Rename(tmp, path)
}

// removePID removes the pid file if it still names this process, so that
// a successor's file is never removed.
func removePID(path string) {
	if path == "" {
		return
	}
	if pid, err := readPID(path); err == nil && pid == os.Getpid() {
		_ = os.Remove(path)
	}
}

func readPID(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("invalid PID number %q in %q", strings.TrimSpace(string(b)), path)
	}
	return pid, nil
}

// Signals maps "bunsan -s" names to signals, as nginx's.
var Signals = map[string]syscall.Signal{
	"stop":   syscall.SIGTERM,
	"quit":   syscall.SIGQUIT,
	"reload": syscall.SIGHUP,
	"reopen": syscall.SIGUSR1,
}

// SendSignal reads the pid file and signals the process it names.
func SendSignal(pidFile, name string) error {
	sig, ok := Signals[name]
	if !ok {
		return fmt.Errorf("invalid option: \"-s %s\": use stop, quit, reopen or reload", name)
	}
	pid, err := readPID(pidFile)
	if err != nil {
		return fmt.Errorf("open() %q failed: %w (is bunsan running?)", pidFile, err)
	}
	if err := syscall.Kill(pid, sig); err != nil {
		return fmt.Errorf("kill(%d, %s) failed: %w", pid, sig, err)
	}
	return nil
}
