package process

import (
	"log/slog"
	"net/http"
	"time"
)

// newHTTPServer makes the net/http server for one listening address.
func newHTTPServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 60 * time.Second, // nginx's client_header_timeout default
		IdleTimeout:       75 * time.Second, // nginx's keepalive_timeout default
		MaxHeaderBytes:    32 << 10,         // nginx's large_client_header_buffers 4 8k
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
}
