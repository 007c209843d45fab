package config

import (
	"strconv"

	"bunsan/internal/conf"
)

// handleWorkerProcesses maps nginx's worker count onto Go's scheduler:
// one process whose GOMAXPROCS is N, instead of N processes. "auto" keeps
// Go's default, which follows the CPUs (and cgroup quota) available.
func handleWorkerProcesses(l *loader, s *scope, d *conf.Directive) error {
	if d.Args[0] == "auto" {
		l.m.Workers = 0
		return nil
	}
	n, err := strconv.Atoi(d.Args[0])
	if err != nil || n < 1 || n > 1024 {
		return argError(d, 0, "invalid worker_processes %q: use a number from 1 to 1024, or auto", d.Args[0])
	}
	l.m.Workers = n
	return nil
}

func handleRlimitNofile(l *loader, s *scope, d *conf.Directive) error {
	n, err := strconv.ParseUint(d.Args[0], 10, 64)
	if err != nil || n < 1 {
		return argError(d, 0, "invalid worker_rlimit_nofile %q: use the number of open files allowed", d.Args[0])
	}
	l.m.RlimitNofile = n
	return nil
}
