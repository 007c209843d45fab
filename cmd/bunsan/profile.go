package main

import (
	"log/slog"
	"os"
	"runtime/pprof"
)

// startProfile writes a CPU profile of the whole run to path when the
// BUNSAN_CPUPROFILE environment variable names one: how the performance
// figures in docs/performance.md were profiled under a real load, without
// an HTTP endpoint in production. The returned func stops and flushes it.
func startProfile(path string, log *slog.Logger) func() {
	if path == "" {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		log.Error("cannot write the CPU profile", "path", path, "error", err)
		return nil
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		log.Error("cannot start the CPU profile", "error", err)
		f.Close()
		return nil
	}
	log.Info("writing a CPU profile until exit", "path", path)
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}
