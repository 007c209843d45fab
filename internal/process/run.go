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

// RunOptions are what Run needs besides the first model.
type RunOptions struct {
	Load     Loader
	Log      *slog.Logger
	ErrorLog *ErrorLog // reopened on USR1; nil = none
	// Ready, if set, is called once every listener is bound and the pid
	// file is written.
	Ready func(*Server)
	// Upgrade enables binary upgrade on SIGUSR2. Only one per process:
	// the command line sets it, tests and the demo do not.
	Upgrade bool
}

// Run serves m until a stop signal: HUP reloads through Load (a bad
// configuration is logged and the old one keeps serving), QUIT stops
// gracefully within the model's worker_shutdown_timeout, TERM and INT stop
// at once, USR1 reopens the error log, USR2 hands the listeners to a new
// binary and then stops gracefully.
func Run(ctx context.Context, m *config.Model, o RunOptions) error {
	log := o.Log
	srv := NewServer(log)
	if o.Upgrade {
		upg, err := newUpgrader()
		if err != nil {
			return err
		}
		defer upg.stop()
		srv.upg = upg
	}
	if err := srv.Apply(m); err != nil {
		return err
	}
	applyRuntime(m, log)
	if err := writePID(m.PID); err != nil {
		srv.Close()
		return err
	}
	defer func() { removePID(m.PID) }()
	upgraded := srv.upg != nil && srv.upg.upg.HasParent()
	if err := srv.upg.ready(); err != nil {
		log.Error("telling the previous binary we are ready failed", "error", err)
	}
	notifyReady(upgraded)
	logWarnings(log, m)
	log.Info("bunsan started", "pid", os.Getpid(), "config", m.File, "upgraded", upgraded)
	if o.Ready != nil {
		o.Ready(srv)
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGTERM, syscall.SIGINT, syscall.SIGUSR1, syscall.SIGUSR2)
	defer signal.Stop(sigs)
	for {
		select {
		case <-ctx.Done():
			srv.Close()
			return nil
		case <-srv.upg.exit():
			log.Info("a new binary took over; finishing requests in flight")
			notify("STOPPING=1")
			gracefulStop(srv, m)
			return nil
		case sig := <-sigs:
			switch sig {
			case syscall.SIGHUP:
				notify("RELOADING=1")
				reload(srv, o.Load, log, &m)
				notify("READY=1")
			case syscall.SIGUSR1:
				if o.ErrorLog != nil {
					if err := o.ErrorLog.Reopen(); err != nil {
						log.Error("reopening error log failed", "error", err)
					}
				}
			case syscall.SIGUSR2:
				if srv.upg == nil {
					log.Warn("binary upgrade is not available in this mode")
					continue
				}
				// On success the new binary is serving and exit() fires;
				// on failure this one simply goes on.
				if err := srv.upg.upgrade(srv.sockets()); err != nil {
					log.Error("binary upgrade failed; this binary keeps serving", "error", err)
				}
			case syscall.SIGQUIT:
				log.Info("graceful shutdown")
				notify("STOPPING=1")
				gracefulStop(srv, m)
				return nil
			default:
				log.Info("exiting", "signal", sig.String())
				notify("STOPPING=1")
				srv.Close()
				return nil
			}
		}
	}
}

// gracefulStop stops accepting and waits for requests in flight, bounded
// by worker_shutdown_timeout when one is set.
func gracefulStop(srv *Server, m *config.Model) {
	ctx, cancel := context.Background(), func() {}
	if m.ShutdownTimeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, m.ShutdownTimeout)
	}
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		srv.Close()
	}
}

func logWarnings(log *slog.Logger, m *config.Model) {
	for _, w := range m.Warnings {
		log.Warn(w.Msg, "at", fmt.Sprintf("%s:%d", w.Pos.File, w.Pos.Line))
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
	applyRuntime(nm, log)
	logWarnings(log, nm)
	log.Info("configuration reloaded", "config", nm.File)
}
