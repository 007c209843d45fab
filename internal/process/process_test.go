package process

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"bunsan/internal/config"
)

func TestPIDFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "logs", "bunsan.pid")
	if err := writePID(path); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if string(b) != strconv.Itoa(os.Getpid())+"\n" {
		t.Errorf("pid file holds %q", b)
	}
	removePID(path)
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("pid file not removed: %v", err)
	}
	// A file naming another process is left alone: it is a successor's.
	os.WriteFile(path, []byte("1\n"), 0o644)
	removePID(path)
	if _, err := os.Stat(path); err != nil {
		t.Errorf("another process's pid file was removed")
	}
}

func TestSendSignal(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, content, signal, err string
	}{
		{"missing file", "", "reload", "is bunsan running?"},
		{"garbage", "abc\n", "reload", `invalid PID number "abc"`},
		{"bad signal", "1\n", "restart", `invalid option: "-s restart"`},
	}
	for _, tt := range tests {
		path := filepath.Join(dir, tt.name)
		if tt.content != "" {
			os.WriteFile(path, []byte(tt.content), 0o644)
		}
		err := SendSignal(path, tt.signal)
		if err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("%s: %v, want an error containing %q", tt.name, err, tt.err)
		}
	}
	if Signals["reload"] != syscall.SIGHUP || Signals["quit"] != syscall.SIGQUIT ||
		Signals["stop"] != syscall.SIGTERM || Signals["reopen"] != syscall.SIGUSR1 {
		t.Errorf("signals differ from nginx's: %v", Signals)
	}
}

func TestErrorLogReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "error.log")
	l, err := OpenErrorLog(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.Write([]byte("one\n"))
	// logrotate moves the file away, then sends USR1.
	os.Rename(path, path+".1")
	if err := l.Reopen(); err != nil {
		t.Fatal(err)
	}
	l.Write([]byte("two\n"))
	old, _ := os.ReadFile(path + ".1")
	cur, _ := os.ReadFile(path)
	if string(old) != "one\n" || string(cur) != "two\n" {
		t.Errorf("rotated %q, current %q", old, cur)
	}
}

// TestApplyKeepsOldOnBindFailure checks that a configuration that cannot
// bind its port changes nothing: the old listener keeps serving.
func TestApplyKeepsOldOnBindFailure(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := NewServer(log)
	defer srv.Close()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	a := ln.Addr().String()
	ln.Close()
	busy, _ := net.Listen("tcp", "127.0.0.1:0")
	defer busy.Close()

	dir := t.TempDir()
	model := func(addrs ...string) *config.Model {
		// A prefix of its own: the default access log is written there.
		m := &config.Model{HTTP: &config.HTTP{}, Prefix: dir + "/"}
		for _, addr := range addrs {
			m.HTTP.Servers = append(m.HTTP.Servers, &config.Server{
				Listens:   []config.Listen{{Addr: addr}},
				Locations: []*config.Location{{Path: "/", Return: &config.Return{Code: 200, Text: addr}}},
			})
		}
		return m
	}
	if err := srv.Apply(model(a)); err != nil {
		t.Fatal(err)
	}
	if err := srv.Apply(model(a, busy.Addr().String())); err == nil || !strings.Contains(err.Error(), "bind()") {
		t.Fatalf("apply with a busy port: %v, want a bind error", err)
	}
	resp, err := http.Get("http://" + a + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != a {
		t.Errorf("old configuration answered %q", body)
	}
	if got := srv.Addrs(); len(got) != 1 {
		t.Errorf("listeners after failed apply: %v", got)
	}
}
