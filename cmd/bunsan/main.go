// Command bunsan is a load balancer and reverse proxy configured in
// nginx's language. Its options are nginx's; "bunsan demo" runs a
// self-contained demonstration.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"

	"bunsan/internal/conf"
	"bunsan/internal/config"
	"bunsan/internal/process"
)

const (
	version       = "0.1.0"
	defaultPrefix = "/etc/bunsan/"
	defaultConf   = "/etc/bunsan/bunsan.conf"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is main without os.Exit, so tests can reach every path.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "demo" {
		return runDemo(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "ctl" {
		return runCtl(args[1:], stdout, stderr)
	}
	o, err := parseOptions(args)
	if err != nil {
		fmt.Fprintf(stderr, "bunsan: %v\n\n%s", err, usage)
		return 1
	}
	switch {
	case o.help:
		fmt.Fprint(stderr, usage)
		return 0
	case o.version:
		fmt.Fprintf(stderr, "bunsan version: bunsan/%s\n", version)
		if o.versionFull {
			printBuildInfo(stderr)
		}
		return 0
	}
	lo := loadOptions(o)
	if o.test {
		return testConfig(lo, o, stdout, stderr)
	}
	m, _, err := config.Load(lo)
	if err != nil {
		printErrors(stderr, err)
		return 1
	}
	if o.signal != "" {
		if err := process.SendSignal(m.PID, o.signal); err != nil {
			fmt.Fprintf(stderr, "bunsan: [error] %v\n", err)
			return 1
		}
		return 0
	}
	return serve(lo, m, stderr)
}

// loadOptions resolves -p and -c. A relative -c resolves against the
// prefix when -p is given (as nginx does) and against the working
// directory otherwise, which is what a user typing a path expects.
func loadOptions(o *options) config.Options {
	prefix := defaultPrefix
	if o.prefixSet {
		prefix = o.prefix
	}
	file := o.conf
	switch {
	case file == "":
		file = defaultConf
	case !filepath.IsAbs(file) && o.prefixSet:
		file = filepath.Join(prefix, file)
	}
	return config.Options{Prefix: prefix, File: file, Directives: o.directives, ErrorLog: o.errorLog}
}

// testConfig is -t and -T, with nginx's messages.
func testConfig(lo config.Options, o *options, stdout, stderr io.Writer) int {
	m, tree, err := config.Load(lo)
	file := lo.File
	if abs, aerr := filepath.Abs(file); aerr == nil {
		file = abs
	}
	if err != nil {
		printErrors(stderr, err)
		fmt.Fprintf(stderr, "bunsan: configuration file %s test failed\n", file)
		return 1
	}
	for _, w := range m.Warnings {
		fmt.Fprintf(stderr, "%s:%d:%d: warning: %s\n", w.Pos.File, w.Pos.Line, w.Pos.Col, w.Msg)
	}
	if !o.quiet {
		fmt.Fprintf(stderr, "bunsan: the configuration file %s syntax is ok\n", file)
		fmt.Fprintf(stderr, "bunsan: configuration file %s test is successful\n", file)
	}
	if o.dump {
		dump(stdout, tree)
	}
	return 0
}

// dump prints every file read, includes expanded, as nginx -T does.
func dump(w io.Writer, tree *conf.Config) {
	for _, f := range tree.Files {
		fmt.Fprintf(w, "# configuration file %s:\n", f.Path)
		w.Write(f.Data)
		if n := len(f.Data); n == 0 || f.Data[n-1] != '\n' {
			fmt.Fprintln(w)
		}
		fmt.Fprintln(w)
	}
}

func printErrors(w io.Writer, err error) {
	if el, ok := err.(conf.ErrorList); ok {
		for _, e := range el {
			fmt.Fprintln(w, e.Error())
		}
		return
	}
	fmt.Fprintf(w, "bunsan: [emerg] %v\n", err)
}

// serve runs the server until a stop signal.
func serve(lo config.Options, m *config.Model, stderr io.Writer) int {
	elog, err := process.OpenErrorLog(m.ErrorLog)
	if err != nil {
		fmt.Fprintf(stderr, "bunsan: [emerg] open() %q failed: %v\n", m.ErrorLog, err)
		return 1
	}
	defer elog.Close()
	log := slog.New(slog.NewTextHandler(elog, &slog.HandlerOptions{Level: process.Level(m.ErrorLogLevel)}))
	load := func() (*config.Model, error) {
		nm, _, err := config.Load(lo)
		return nm, err
	}
	if stop := startProfile(os.Getenv("BUNSAN_CPUPROFILE"), log); stop != nil {
		defer stop()
	}
	if err := process.Run(context.Background(), m, process.RunOptions{Load: load, Log: log, ErrorLog: elog, Upgrade: true}); err != nil {
		log.Error("cannot start", "error", err)
		fmt.Fprintf(stderr, "bunsan: [emerg] %v\n", err)
		return 1
	}
	return 0
}

func printBuildInfo(w io.Writer) {
	fmt.Fprintf(w, "built with %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" || s.Key == "vcs.time" {
				fmt.Fprintf(w, "%s: %s\n", s.Key, s.Value)
			}
		}
	}
	fmt.Fprintf(w, "configure arguments: --prefix=%s --conf-path=%s\n", defaultPrefix, defaultConf)
}
