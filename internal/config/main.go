package config

import (
	"bunsan/internal/conf"
)

const processModel = "bunsan runs as one process with Go's scheduler; nginx's process model does not apply"

func mainDirectives() []*directive {
	return []*directive{
		{name: "pid", ctx: CtxMain, minArgs: 1, maxArgs: 1, handle: handlePID},
		{name: "error_log", ctx: CtxMain | CtxHTTPAll, minArgs: 1, maxArgs: 2, repeat: true, handle: handleErrorLog},
		{name: "worker_shutdown_timeout", ctx: CtxMain, minArgs: 1, maxArgs: 1, handle: handleShutdownTimeout},
		{name: "events", ctx: CtxMain, block: true, handle: handleEvents},
		{name: "http", ctx: CtxMain, block: true, handle: handleHTTP},
		ignoredRow("user", CtxMain, 1, 2, "bunsan does not switch users; run it as the user it should run as (e.g. systemd User=)"),
		{name: "worker_processes", ctx: CtxMain, minArgs: 1, maxArgs: 1, handle: handleWorkerProcesses},
		ignoredRow("worker_cpu_affinity", CtxMain, 1, many, processModel),
		ignoredRow("worker_priority", CtxMain, 1, 1, processModel),
		{name: "worker_rlimit_nofile", ctx: CtxMain, minArgs: 1, maxArgs: 1, handle: handleRlimitNofile},
		ignoredRow("worker_rlimit_core", CtxMain, 1, 1, processModel),
		ignoredRow("daemon", CtxMain, 1, 1, "bunsan stays in the foreground; use systemd or another supervisor"),
		ignoredRow("master_process", CtxMain, 1, 1, processModel),
		ignoredRow("load_module", CtxMain, 1, 1, "bunsan's modules are built in"),
		ignoredRow("pcre_jit", CtxMain, 1, 1, "bunsan compiles regular expressions with Go's regexp"),
		ignoredRow("thread_pool", CtxMain, 1, many, processModel),
		ignoredRow("timer_resolution", CtxMain, 1, 1, processModel),
		ignoredRow("worker_connections", CtxEvents, 1, 1, "bunsan has no per-worker connection table; limit connections with limit_conn"),
		ignoredRow("use", CtxEvents, 1, 1, "Go's runtime picks epoll"),
		ignoredRow("multi_accept", CtxEvents, 1, 1, processModel),
		ignoredRow("accept_mutex", CtxEvents, 1, 1, processModel),
		ignoredRow("accept_mutex_delay", CtxEvents, 1, 1, processModel),
	}
}

func handlePID(l *loader, s *scope, d *conf.Directive) error {
	l.pidSet = true
	if d.Args[0] == "off" {
		l.m.PID = ""
		return nil
	}
	l.m.PID = l.prefixPath(d.Args[0])
	return nil
}

var logLevels = map[string]bool{
	"debug": true, "info": true, "notice": true, "warn": true,
	"error": true, "crit": true, "alert": true, "emerg": true,
}

func handleErrorLog(l *loader, s *scope, d *conf.Directive) error {
	level := "error"
	if len(d.Args) == 2 {
		level = d.Args[1]
		if !logLevels[level] {
			return argError(d, 1, "invalid log level %q: use debug, info, notice, warn, error, crit, alert or emerg", level)
		}
	}
	// Only the main-level error_log decides where the process logs; the
	// others are accepted so that nginx configs load unchanged.
	if s.ctx != CtxMain {
		return nil
	}
	l.m.ErrorLog = l.prefixPath(d.Args[0])
	l.m.ErrorLogLevel = level
	return nil
}

func handleShutdownTimeout(l *loader, s *scope, d *conf.Directive) error {
	t, err := parseDuration(d.Args[0])
	if err != nil {
		return argError(d, 0, "%v", err)
	}
	l.m.ShutdownTimeout = t
	return nil
}

func handleEvents(l *loader, s *scope, d *conf.Directive) error {
	l.block(&scope{ctx: CtxEvents}, d.Block)
	return nil
}

// unsupported names nginx directives that bunsan does not have yet, so
// that they get a truthful message instead of "unknown directive".
var unsupported = map[string]string{
	"root":             "bunsan is a load balancer and serves no files; proxy to a file server",
	"alias":            "bunsan serves no files",
	"index":            "bunsan serves no files",
	"try_files":        "bunsan serves no files",
	"autoindex":        "bunsan serves no files",
	"fastcgi_pass":     "only proxy_pass is supported",
	"uwsgi_pass":       "only proxy_pass is supported",
	"scgi_pass":        "only proxy_pass is supported",
	"grpc_pass":        "only proxy_pass is supported",
	"memcached_pass":   "only proxy_pass is supported",
	"rewrite":          "use return or location matching",
	"mail":             "the mail proxy is out of scope",
	"proxy_cache":      "caching is planned",
	"proxy_cache_path": "caching is planned",
	"limit_req":        "rate limiting is planned",
	"limit_req_zone":   "rate limiting is planned",
	"limit_conn":       "connection limits are planned",
	"limit_conn_zone":  "connection limits are planned",
}
