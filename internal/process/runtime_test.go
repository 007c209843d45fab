package process

import (
	"io"
	"log/slog"
	"runtime"
	"syscall"
	"testing"

	"bunsan/internal/config"
)

// TestApplyRuntime: worker_processes sets GOMAXPROCS (unless the
// environment does), auto restores Go's default, and worker_rlimit_nofile
// sets the soft open-file limit.
func TestApplyRuntime(t *testing.T) {
	t.Setenv("GOMAXPROCS", "")
	before := runtime.GOMAXPROCS(0)
	t.Cleanup(func() { runtime.GOMAXPROCS(before) })
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim) })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))

	want := lim.Cur - 1
	applyRuntime(&config.Model{Workers: 3, RlimitNofile: want}, log)
	if got := runtime.GOMAXPROCS(0); got != 3 {
		t.Errorf("worker_processes 3: GOMAXPROCS %d", got)
	}
	var now syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &now); err != nil {
		t.Fatal(err)
	}
	if now.Cur != want {
		t.Errorf("worker_rlimit_nofile %d: soft limit %d", want, now.Cur)
	}

	applyRuntime(&config.Model{}, log)
	runtime.SetDefaultGOMAXPROCS()
	def := runtime.GOMAXPROCS(0)
	applyRuntime(&config.Model{Workers: 1}, log)
	applyRuntime(&config.Model{}, log)
	if got := runtime.GOMAXPROCS(0); got != def {
		t.Errorf("worker_processes auto: GOMAXPROCS %d, want Go's default %d", got, def)
	}

	t.Setenv("GOMAXPROCS", "2")
	runtime.GOMAXPROCS(2)
	applyRuntime(&config.Model{Workers: 1}, log)
	if got := runtime.GOMAXPROCS(0); got != 2 {
		t.Errorf("GOMAXPROCS=2 in the environment: got %d, want the environment to win", got)
	}
}
