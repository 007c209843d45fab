package process

import (
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"syscall"

	"bunsan/internal/config"
)

// applyRuntime applies the main-context tuning of a model: worker_processes
// as GOMAXPROCS and worker_rlimit_nofile as the open-file limit. It runs at
// start and after each successful reload, as nginx applies them to new
// workers.
func applyRuntime(m *config.Model, log *slog.Logger) {
	switch {
	case os.Getenv("GOMAXPROCS") != "":
		// The environment is the operator's explicit word for this run.
		if m.Workers > 0 && m.Workers != runtime.GOMAXPROCS(0) {
			log.Info("GOMAXPROCS from the environment overrides worker_processes", "GOMAXPROCS", runtime.GOMAXPROCS(0), "worker_processes", m.Workers)
		}
	case m.Workers > 0:
		runtime.GOMAXPROCS(m.Workers)
	default:
		runtime.SetDefaultGOMAXPROCS()
	}
	if m.RlimitNofile > 0 {
		if err := setNofile(m.RlimitNofile); err != nil {
			log.Warn("worker_rlimit_nofile not applied", "want", m.RlimitNofile, "error", err)
		}
	}
}

// setNofile sets the soft open-file limit, raising the hard one too when
// the process may (root); otherwise it stops at the hard limit and says so.
func setNofile(n uint64) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return err
	}
	want := syscall.Rlimit{Cur: n, Max: max(lim.Max, n)}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err == nil {
		return nil
	}
	want = syscall.Rlimit{Cur: min(n, lim.Max), Max: lim.Max}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err != nil {
		return err
	}
	if n > lim.Max {
		return &limitError{n, lim.Max}
	}
	return nil
}

type limitError struct{ want, hard uint64 }

func (e *limitError) Error() string {
	return "above the hard limit " + strconv.FormatUint(e.hard, 10) + "; raised to it (run as root or raise LimitNOFILE to allow " + strconv.FormatUint(e.want, 10) + ")"
}
