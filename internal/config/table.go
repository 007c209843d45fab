package config

import (
	"sort"

	"bunsan/internal/conf"
)

// directive is one row of the directive table, after nginx's ngx_command_t:
// where a directive may appear, what arguments it takes, and what it
// becomes. Adding a directive means adding a row and, unless it is
// accepted and ignored, one handler.
type directive struct {
	name string
	ctx  Context
	// minArgs and maxArgs bound the argument count; maxArgs < 0 is
	// unbounded.
	minArgs, maxArgs int
	block            bool
	// repeat allows the directive more than once in one block.
	repeat bool
	// ignored, when set, says why the directive is accepted and has no
	// effect (nginx's process model, or tuning that does not apply to Go).
	ignored string
	// warn, when set, is printed at load: the directive is accepted but
	// bunsan does not yet do what nginx does with it.
	warn string
	// hint is added to "not allowed here" errors.
	hint   string
	handle func(l *loader, s *scope, d *conf.Directive) error
}

const many = -1

// table lists every directive bunsan accepts. Rows with the same name
// differ in context (the upstream "server" line and the http "server"
// block).
var table map[string][]*directive

// init builds the table; a plain initialiser would be a cycle, since
// handlers walk blocks through the table.
func init() { table = buildTable() }

func buildTable() map[string][]*directive {
	rows := []*directive{}
	rows = append(rows, mainDirectives()...)
	rows = append(rows, httpDirectives()...)
	rows = append(rows, proxyDirectives()...)
	rows = append(rows, upstreamDirectives()...)
	rows = append(rows, streamDirectives()...)
	rows = append(rows, sslDirectives()...)
	rows = append(rows, apiDirectives()...)
	rows = append(rows, healthDirectives()...)
	m := map[string][]*directive{}
	for _, r := range rows {
		m[r.name] = append(m[r.name], r)
	}
	return m
}

// directiveNames lists the table's names, sorted, for suggestions and docs.
func directiveNames() []string {
	names := make([]string, 0, len(table))
	for n := range table {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// lookup returns the row for name in ctx, or the union of contexts the
// name is allowed in when none fits (0 when the name is unknown).
//
// The contexts reported are those of the same family as ctx (stream
// blocks for a directive misplaced in stream, the others otherwise), so
// that a misplaced "upstream" in an http server is told to go to http,
// not "http or stream"; other families are named only when the name
// has no place in this one.
func lookup(name string, ctx Context) (*directive, Context) {
	var allowed Context
	for _, r := range table[name] {
		if r.ctx&ctx != 0 {
			return r, 0
		}
		allowed |= r.ctx
	}
	const streamFamily = CtxStream | CtxStreamServer | CtxStreamUpstream
	family := ^streamFamily
	if ctx&streamFamily != 0 {
		family = streamFamily | CtxMain
	}
	if allowed&family != 0 {
		allowed &= family
	}
	return nil, allowed
}

// ignoredRow makes a row for a directive accepted for compatibility.
func ignoredRow(name string, ctx Context, minArgs, maxArgs int, why string) *directive {
	return &directive{name: name, ctx: ctx, minArgs: minArgs, maxArgs: maxArgs, repeat: true, ignored: why}
}

// Directive describes one supported directive for documentation.
type Directive struct {
	Name     string
	Contexts string
	Ignored  string
	Warn     string
}

// Directives lists the table, for README checks and `bunsan -V`.
func Directives() []Directive {
	var out []Directive
	for _, n := range directiveNames() {
		for _, r := range table[n] {
			out = append(out, Directive{Name: n, Contexts: r.ctx.String(), Ignored: r.ignored, Warn: r.warn})
		}
	}
	return out
}
