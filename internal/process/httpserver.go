package process

import (
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"bunsan/internal/httpproxy"
)

// newHTTPServer makes the net/http server for one listening address. Its
// timeouts are those of the address's default server when it opens
// (client_header_timeout, keepalive_timeout); a reload that changes them
// takes effect for listeners opened afterwards.
func newHTTPServer(h http.Handler, log *slog.Logger) *http.Server {
	lim := httpproxy.DefaultLimits()
	if rt, ok := h.(*httpproxy.Router); ok {
		lim = rt.Limits()
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: lim.HeaderTimeout,
		ReadTimeout:       0, // client_body_timeout is applied per read by the proxy
		IdleTimeout:       lim.IdleTimeout,
		// The guard enforces large_client_header_buffers exactly; this is
		// a backstop above it.
		MaxHeaderBytes: lim.HeaderBufSize*lim.HeaderBufNum + 4096,
		ConnContext:    httpproxy.ConnContext,
		ErrorLog:       slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	// Buffered access log lines are written out when a graceful stop
	// begins; requests still finishing are flushed by the log's timer.
	if lim.IdleTimeout == 0 {
		// keepalive_timeout 0 turns keep-alive off in nginx; for Go a
		// zero IdleTimeout would mean no limit at all.
		srv.SetKeepAlivesEnabled(false)
	}
	srv.RegisterOnShutdown(httpproxy.FlushLogs)
	watchReopen(log)
	return srv
}

var reopenOnce sync.Once

// watchReopen reopens the access logs on SIGUSR1, beside the error log
// that Run reopens on the same signal (log rotation, nginx -s reopen).
func watchReopen(log *slog.Logger) {
	reopenOnce.Do(func() {
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, syscall.SIGUSR1)
		go func() {
			for range ch {
				if err := httpproxy.ReopenLogs(); err != nil {
					log.Error("reopening access logs failed", "error", err)
				}
			}
		}()
	})
}

// guardPlain puts the request guard in front of a listener: directly on
// plain-text connections, and behind the handshake on TLS ones (HTTP/2
// connections pass unwrapped). The name is historical: it guards both.
func guardPlain(ln net.Listener, isTLS bool, srv *http.Server) net.Listener {
	// A handler wrapped in front of the router (ACME challenges) still
	// gets the guard, with nginx's default limits.
	limits := httpproxy.DefaultLimits
	if rt, ok := srv.Handler.(*httpproxy.Router); ok {
		limits = rt.Limits
	}
	if isTLS {
		return httpproxy.GuardTLSListener(ln, limits)
	}
	return httpproxy.GuardListener(ln, limits)
}
