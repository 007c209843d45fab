package config

import (
	"reflect"
	"testing"
)

func TestWorkerDirectives(t *testing.T) {
	tests := []struct {
		text    string
		workers int
		nofile  uint64
		errs    []string
	}{
		{text: "worker_processes auto;", workers: 0},
		{text: "worker_processes 4;", workers: 4},
		{text: "worker_processes 1; worker_rlimit_nofile 20000;", workers: 1, nofile: 20000},
		{text: "worker_processes 0;", errs: []string{`1:18: invalid worker_processes "0": use a number from 1 to 1024, or auto`}},
		{text: "worker_processes many;", errs: []string{`1:18: invalid worker_processes "many": use a number from 1 to 1024, or auto`}},
		{text: "worker_rlimit_nofile -1;", errs: []string{`1:22: invalid worker_rlimit_nofile "-1": use the number of open files allowed`}},
	}
	for _, tt := range tests {
		m, errs := loadText(t, tt.text)
		if !reflect.DeepEqual(errs, tt.errs) {
			t.Errorf("%s: errors %q, want %q", tt.text, errs, tt.errs)
			continue
		}
		if errs != nil {
			continue
		}
		if m.Workers != tt.workers || m.RlimitNofile != tt.nofile {
			t.Errorf("%s: workers %d nofile %d, want %d %d", tt.text, m.Workers, m.RlimitNofile, tt.workers, tt.nofile)
		}
	}
}
