package process

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"bunsan/internal/config"
)

// Loader loads the configuration anew for a reload.
type Loader func() (*config.Model, error)

// Run serves m until a stop signal: HUP reloads through load (a bad
// configuration is logged and the old one keeps serving), QUIT stops
// gracefully within the model's worker_shutdown_timeout, TERM and INT stop
// at once, USR1 reopens the error log. Ready, if set, is called once every
// listener is bound and the pid file is written.
func Run(ctx context.Context, m *config.Model, load Loader, log *slog.Logger, elog *ErrorLog, ready func(*Server)) error {
	srv := NewServer(log)
	if err := srv.Apply(m); err != nil {
		return err
	}
	if err := writePID(m.PID); err != nil {
		srv.Close()
		return err
	}
	defer func() { removePID(m.PID) }()
	for _, w := range m.Warnings {
		log.Warn(w.Msg, "at", fmt.Sprintf("%s:%d", w.Pos.File, w.Pos.Line))
	}
	log.Info("bunsan started", "pid", os.Getpid(), "config", m.File)
	if ready != nil {
		ready(srv)
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGTERM, syscall.SIGINT, syscall.SIGUSR1)
	defer signal.Stop(sigs)
	for {
		select {
		case <-ctx.Done():
			srv.Close()
			return nil
		case sig := <-sigs:
			switch sig {
			case syscall.SIGHUP:
				reload(srv, load, log, &m)
			case syscall.SIGUSR1:
				if elog != nil {
					if err := elog.Reopen(); err != nil {
						log.Error("reopening error log failed", "error", err)
					}
				}
			case syscall.SIGQUIT:
				log.Info("graceful shutdown")
				sctx, cancel := context.Background(), func() {}
				if m.ShutdownTimeout > 0 {
					sctx, cancel = context.WithTimeout(sctx, m.ShutdownTimeout)
				}
				err := srv.Shutdown(sctx)
				cancel()
				if err != nil {
					srv.Close()
				}
				return nil
			default:
				log.Info("exiting", "signal", sig.String())
				srv.Close()
				return nil
			}
		}
	}
}

func reload(srv *Server, load Loader, log *slog.Logger, m **config.Model) {
	nm, err := load()
	if err == nil {
		err = srv.Apply(nm)
	}
	if err != nil {
		log.Error("reload failed; the previous configuration keeps serving", "error", err)
		return
	}
	if nm.PID != (*m).PID {
		removePID((*m).PID)
		if err := writePID(nm.PID); err != nil {
			log.Error("writing pid file failed", "error", err)
		}
	}
	*m = nm
	for _, w := range nm.Warnings {
		log.Warn(w.Msg, "at", fmt.Sprintf("%s:%d", w.Pos.File, w.Pos.Line))
	}
	log.Info("configuration reloaded", "config", nm.File)
}
