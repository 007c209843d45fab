package upstream

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The state file of "state FILE" keeps a group's server list across
// restarts, as NGINX Plus does: one "server" line per server in nginx's
// syntax, rewritten whole after every change made through the API. The
// config package reads it back at load, with the same rules as server
// lines in the configuration.

// FormatServer writes one server as nginx's "server" line (no newline),
// giving only the parameters that differ from nginx's defaults:
//
//	server 10.0.0.1:80 weight=2 max_fails=3 fail_timeout=30s down;
func FormatServer(s ServerSpec) string {
	var b strings.Builder
	b.WriteString("server ")
	b.WriteString(s.Addr)
	if s.Weight > 1 {
		b.WriteString(" weight=" + strconv.Itoa(s.Weight))
	}
	if s.MaxConns > 0 {
		b.WriteString(" max_conns=" + strconv.Itoa(s.MaxConns))
	}
	if s.MaxFails != DefaultMaxFails {
		b.WriteString(" max_fails=" + strconv.Itoa(s.MaxFails))
	}
	if s.FailTimeout != DefaultFailTimeout {
		b.WriteString(" fail_timeout=" + FormatDuration(s.FailTimeout))
	}
	if s.SlowStart > 0 {
		b.WriteString(" slow_start=" + FormatDuration(s.SlowStart))
	}
	if s.Route != "" {
		b.WriteString(" route=" + s.Route)
	}
	if s.Service != "" {
		b.WriteString(" service=" + s.Service)
	}
	if s.Resolve {
		b.WriteString(" resolve")
	}
	if s.Backup {
		b.WriteString(" backup")
	}
	if s.Down {
		b.WriteString(" down")
	}
	if s.Drain {
		b.WriteString(" drain")
	}
	b.WriteString(";")
	return b.String()
}

// FormatDuration writes d as nginx's time syntax: whole seconds as "10s",
// anything finer in milliseconds ("1500ms").
func FormatDuration(d time.Duration) string {
	if d%time.Second == 0 {
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	}
	return strconv.FormatInt(int64(d/time.Millisecond), 10) + "ms"
}

// WriteState replaces the state file with list. It writes a temporary
// file beside it and renames it over the old one, so a crash leaves the
// old list or the new one, never half of either.
func WriteState(path string, list []ServerSpec) error {
	var b strings.Builder
	b.WriteString("# written by bunsan on every change through the API; do not edit while it runs\n")
	for _, s := range list {
		b.WriteString(FormatServer(s))
		b.WriteByte('\n')
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, werr := f.WriteString(b.String())
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp, path)
	}
	if werr != nil {
		os.Remove(tmp)
		return fmt.Errorf("state file %s: %w", path, werr)
	}
	return nil
}
