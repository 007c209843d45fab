package config

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"bunsan/internal/conf"
)

// Options says where to find a configuration, as nginx's command line does.
type Options struct {
	// Prefix is nginx's -p: where pid, error_log and access_log paths
	// resolve. It ends in a slash.
	Prefix string
	// File is the main configuration file (absolute, or relative to the
	// working directory).
	File string
	// Directives are extra main-context directives (nginx's -g).
	Directives string
	// ErrorLog is nginx's -e: where errors go before and unless the
	// configuration says otherwise.
	ErrorLog string
}

// Load reads, parses and validates a configuration. It returns the parse
// tree (for -T) whenever the text could be read, the model only when there
// were no errors, and every error found as a conf.ErrorList.
func Load(opts Options) (*Model, *conf.Config, error) {
	file, err := filepath.Abs(opts.File)
	if err != nil {
		return nil, nil, err
	}
	confDir := filepath.Dir(file)
	tree, perr := conf.ParseFile(file, conf.Options{ConfDir: confDir})
	var errs conf.ErrorList
	if perr != nil {
		el, ok := perr.(conf.ErrorList)
		if !ok {
			return nil, tree, perr
		}
		errs = append(errs, el...)
	}
	if tree == nil {
		return nil, nil, errs.Err()
	}
	dirs := tree.Directives
	if strings.TrimSpace(opts.Directives) != "" {
		g, gerr := conf.ParseString("command line", opts.Directives, conf.Options{ConfDir: confDir})
		if gerr != nil {
			if el, ok := gerr.(conf.ErrorList); ok {
				errs = append(errs, el...)
			} else {
				return nil, tree, gerr
			}
		}
		if g != nil {
			dirs = append(append([]*conf.Directive(nil), dirs...), g.Directives...)
		}
	}
	l := &loader{
		m: &Model{
			File:          file,
			Prefix:        withSlash(opts.Prefix),
			ConfDir:       confDir,
			ErrorLogLevel: "error",
		},
	}
	if opts.ErrorLog != "" {
		l.m.ErrorLog = l.prefixPath(opts.ErrorLog)
	}
	l.block(&scope{ctx: CtxMain}, dirs)
	l.finish()
	l.finishHealth()
	errs = append(errs, l.errs...)
	sortErrors(errs, tree)
	if len(errs) > 0 {
		return nil, tree, errs
	}
	return l.m, tree, nil
}

// loader holds one load's progress. It lives for one call of Load.
type loader struct {
	m      *Model
	errs   conf.ErrorList
	pidSet bool
	// httpProxy is the http-level proxy settings, merged into servers at
	// the end because nginx lets them follow the server blocks.
	httpProxy    Proxy
	httpSettings Settings
	http         *HTTP
}

// scope is where the walk stands: the context and the model objects that
// directives in it fill.
type scope struct {
	ctx   Context
	srv   *Server
	loc   *Location
	ups   *upstreamScope
	proxy *Proxy
	set   *Settings
	ifb   *If // inside an if block
}

func (l *loader) errorf(p conf.Pos, format string, args ...any) {
	l.errs = append(l.errs, &conf.Error{Pos: p, Msg: fmt.Sprintf(format, args...)})
}

// argError is an error about one argument, placed at that argument.
func argError(d *conf.Directive, i int, format string, args ...any) error {
	p := d.Pos
	if i < len(d.ArgPos) {
		p = d.ArgPos[i]
	}
	return &conf.Error{Pos: p, Msg: fmt.Sprintf(format, args...)}
}

// block checks and applies every directive of one block.
func (l *loader) block(s *scope, dirs []*conf.Directive) {
	seen := map[string]bool{}
	for _, d := range dirs {
		l.directive(s, d, seen)
	}
}

func (l *loader) directive(s *scope, d *conf.Directive, seen map[string]bool) {
	row, allowed := lookup(d.Name, s.ctx)
	if row == nil {
		l.placeError(s, d, allowed)
		return
	}
	n := len(d.Args)
	mismatch := row.block != d.HasBlock || n < row.minArgs || (row.maxArgs >= 0 && n > row.maxArgs)
	if mismatch && l.splitMissingSemicolon(s, d, seen) {
		return
	}
	switch {
	case row.block && !d.HasBlock:
		l.errorf(d.Pos, "directive %q has no opening \"{\": it takes a block, e.g. %s { ... }", d.Name, d.Name)
		return
	case !row.block && d.HasBlock:
		l.errorf(d.Pos, "directive %q takes no block: end it with \";\" instead of \"{ ... }\"", d.Name)
		return
	case n < row.minArgs || (row.maxArgs >= 0 && n > row.maxArgs):
		l.errorf(d.Pos, "invalid number of arguments in %q directive: %s", d.Name, argCountText(row))
		return
	}
	if !row.repeat {
		if seen[d.Name] {
			l.errorf(d.Pos, "%q directive is duplicate: it may appear once per block; remove one", d.Name)
			return
		}
		seen[d.Name] = true
	}
	if row.warn != "" {
		l.m.Warnings = append(l.m.Warnings, Diag{Pos: toPos(d.Pos), Msg: fmt.Sprintf("%q: %s", d.Name, row.warn)})
	}
	if row.handle == nil {
		return
	}
	if err := row.handle(l, s, d); err != nil {
		if ce, ok := err.(*conf.Error); ok {
			l.errs = append(l.errs, ce)
		} else {
			l.errorf(d.Pos, "%s", err.Error())
		}
	}
}

// splitMissingSemicolon handles a directive whose words run over several
// lines and do not fit the table: almost always a ";" forgotten at the end
// of the first line ("listen 80" above "location / {"). It reports that,
// then reads each line as its own directive so later errors still show.
func (l *loader) splitMissingSemicolon(s *scope, d *conf.Directive, seen map[string]bool) bool {
	pieces := d.SplitLines()
	if len(pieces) < 2 {
		return false
	}
	first := pieces[0]
	text := strings.Join(append([]string{first.Name}, first.Args...), " ")
	at := first.End
	if n := len(first.Args); n > 0 {
		at.Col += len(first.Args[n-1])
	} else {
		at.Col += len(first.Name)
	}
	l.errorf(at, "missing \";\" after %q: every directive ends with \";\"", text)
	for _, p := range pieces {
		l.directive(s, p, seen)
	}
	return true
}

func argCountText(r *directive) string {
	switch {
	case r.maxArgs == 0:
		return "it takes none"
	case r.minArgs == r.maxArgs:
		return fmt.Sprintf("it takes %d", r.minArgs)
	case r.maxArgs < 0:
		return fmt.Sprintf("it takes at least %d", r.minArgs)
	}
	return fmt.Sprintf("it takes %d to %d", r.minArgs, r.maxArgs)
}

// placeError explains an unknown directive or one in the wrong block.
func (l *loader) placeError(s *scope, d *conf.Directive, allowed Context) {
	if allowed != 0 {
		msg := fmt.Sprintf("%q directive is not allowed in %s; it belongs in %s",
			d.Name, here(s.ctx), allowed)
		if h := placeHint(d.Name, s.ctx, allowed); h != "" {
			msg += ": " + h
		}
		l.errorf(d.Pos, "%s", msg)
		return
	}
	if why, ok := unsupported[d.Name]; ok {
		l.errorf(d.Pos, "%q is an nginx directive that bunsan does not support yet (%s)", d.Name, why)
		return
	}
	msg := fmt.Sprintf("unknown directive %q", d.Name)
	if s := closest(d.Name, directiveNames()); s != "" {
		msg += fmt.Sprintf(": did you mean %q?", s)
	}
	l.errorf(d.Pos, "%s", msg)
}

func here(c Context) string {
	if c == CtxMain {
		return "the top level (main)"
	}
	return fmt.Sprintf("a %q block", c.blockName())
}

// placeHint gives the move that fixes the most common misplacements.
func placeHint(name string, ctx, allowed Context) string {
	switch {
	case name == "upstream" && allowed&CtxHTTP != 0 && ctx&(CtxServer|CtxLocation) != 0:
		return "move the upstream block out of the server block, next to it inside \"http\", and refer to it with proxy_pass http://NAME"
	case allowed&CtxLocation != 0 && allowed&CtxServer == 0 && ctx&(CtxServer|CtxHTTP) != 0:
		return fmt.Sprintf("put it inside a location block, e.g. location / { %s ...; }", name)
	case allowed == CtxHTTP && ctx == CtxMain:
		return fmt.Sprintf("wrap it in http { ... }")
	case allowed&CtxServer != 0 && ctx == CtxHTTP:
		return fmt.Sprintf("put it inside a server block")
	}
	return ""
}

// toPos converts a syntax position to a model position.
func toPos(p conf.Pos) Pos { return Pos{File: p.File, Line: p.Line, Col: p.Col} }

func withSlash(p string) string {
	if p != "" && !strings.HasSuffix(p, "/") {
		return p + "/"
	}
	return p
}

// prefixPath resolves a pid/log path as nginx does: relative to the prefix.
func (l *loader) prefixPath(p string) string {
	if filepath.IsAbs(p) || p == "stderr" {
		return p
	}
	return filepath.Join(l.m.Prefix, p)
}

// confPath resolves include-like paths (certificates) relative to the
// directory of the main configuration file, as nginx does.
func (l *loader) confPath(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(l.m.ConfDir, p)
}

// fileExists reports why a file cannot be used, or nil.
func fileExists(p string) error {
	st, err := os.Stat(p)
	if err != nil {
		return err
	}
	if st.IsDir() {
		return fmt.Errorf("it is a directory")
	}
	return nil
}

// sortErrors orders errors as they stand in the text: by file in the order
// the files were read, then by line and column.
func sortErrors(errs conf.ErrorList, tree *conf.Config) {
	order := map[string]int{}
	for i, f := range tree.Files {
		if _, ok := order[f.Path]; !ok {
			order[f.Path] = i
		}
	}
	fileRank := func(f string) int {
		if r, ok := order[f]; ok {
			return r
		}
		return len(order) // the command line (-g) comes last
	}
	sort.SliceStable(errs, func(i, j int) bool {
		a, b := errs[i].Pos, errs[j].Pos
		if ra, rb := fileRank(a.File), fileRank(b.File); ra != rb {
			return ra < rb
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
}
