package process

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"bunsan/internal/h1server"
	"bunsan/internal/httpproxy"
)

// httpServer is what a listener needs of its server: net/http's for TLS
// and h2c addresses, h1server's for plain HTTP/1.
type httpServer interface {
	Serve(net.Listener) error
	Shutdown(context.Context) error
	Close() error
}

// newH1Server makes the server of a plain-text HTTP/1 address: h1server,
// which parses with the guard's rules itself, takes the address's limits
// at each accept (so reloads apply to new connections) and answers
// refusals through the handler like the guard's synthetic requests.
func newH1Server(h http.Handler, limits func() httpproxy.Limits, connCtx func(context.Context, net.Conn) context.Context,
	connState func(context.Context, http.ConnState), log *slog.Logger) *h1server.Server {
	srv := &h1server.Server{
		Handler:     h,
		ConnContext: connCtx,
		Limits:      limits,
		// Connection states are counted with the context's ConnStat.
		ConnStateContext: connState,
		Refuse:           httpproxy.RefusedRequest,
		ErrorLog:         log,
	}
	srv.RegisterOnShutdown(httpproxy.FlushLogs)
	watchReopen(log)
	return srv
}

// newHTTPServer makes the net/http server for one TLS or h2c address. Its
// timeouts are those of the address's default server when it opens
// (client_header_timeout, keepalive_timeout); a reload that changes them
// takes effect for listeners opened afterwards.
func newHTTPServer(h http.Handler, limits func() httpproxy.Limits, log *slog.Logger) *http.Server {
	lim := limits()
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
func guardPlain(ln net.Listener, isTLS bool, limits func() httpproxy.Limits) net.Listener {
	if isTLS {
		return httpproxy.GuardTLSListener(ln, limits)
	}
	return httpproxy.GuardListener(ln, limits)
}
