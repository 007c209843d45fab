package tlsconf

import (
	"log/slog"
	"sync/atomic"
)

// processLog is where background TLS work (OCSP fetches, ACME orders)
// reports, set by the process from its error log on every apply.
var processLog atomic.Pointer[slog.Logger]

// SetLog makes l the logger of background TLS work.
func SetLog(l *slog.Logger) {
	if l != nil {
		processLog.Store(l)
	}
}

// logTo returns own when set (tests set it), else the process's logger.
func logTo(own *slog.Logger) *slog.Logger {
	if own != nil {
		return own
	}
	if l := processLog.Load(); l != nil {
		return l
	}
	return slog.Default()
}
