package config

import (
	"errors"
	"io/fs"
	"os"
	"strings"

	"bunsan/internal/conf"
)

// API is the "api" directive of a location: the NGINX Plus-compatible
// upstream API.
type API struct {
	Pos Pos
	// Write is "write=on": POST, PATCH and DELETE change upstream groups.
	// Without it the API is read-only and those methods answer 405.
	Write bool
	// Prefix is the location's path when it is a prefix location: the API
	// path (/9/http/upstreams) is what follows it in the request URI.
	// Empty for regex locations, where the API finds the version number
	// in the URI.
	Prefix string
}

// apiDirectives are the API and access rows of the directive table.
func apiDirectives() []*directive {
	return []*directive{
		{name: "api", ctx: CtxLocation, maxArgs: 1, handle: handleAPI},
		{name: "state", ctx: CtxUpstream | CtxStreamUpstream, minArgs: 1, maxArgs: 1, handle: handleState},
		{name: "auth_basic", ctx: CtxHTTPAll, minArgs: 1, maxArgs: 1, handle: handleAuthBasic},
		{name: "auth_basic_user_file", ctx: CtxHTTPAll, minArgs: 1, maxArgs: 1, handle: handleAuthBasicUserFile},
	}
}

func handleAPI(l *loader, s *scope, d *conf.Directive) error {
	api := &API{Pos: toPos(d.Pos)}
	if len(d.Args) == 1 {
		v, ok := strings.CutPrefix(d.Args[0], "write=")
		switch {
		case ok && v == "on":
			api.Write = true
		case ok && v == "off":
		default:
			return argError(d, 0, "invalid parameter %q: api takes only write=on or write=off", d.Args[0])
		}
	}
	if s.loc.Modifier == LocPrefix || s.loc.Modifier == LocExact || s.loc.Modifier == LocNoRegex {
		api.Prefix = s.loc.Path
	}
	s.loc.API = api
	return nil
}

// handleState reads "state FILE": the group's servers come from the file,
// which the API rewrites on every change (NGINX Plus semantics). A file
// that does not exist yet is an empty list. As in NGINX Plus, the block
// may not also list servers.
func handleState(l *loader, s *scope, d *conf.Directive) error {
	spec := s.ups.spec
	if len(spec.Servers) > 0 {
		return &conf.Error{Pos: d.Pos, Msg: "\"state\" cannot be used with \"server\" lines in the same upstream (as in NGINX Plus): move the server lines into the state file, or remove state"}
	}
	path := l.confPath(d.Args[0])
	spec.StateFile = path
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	tree, err := conf.ParseFile(path, conf.Options{ConfDir: l.m.ConfDir})
	if err != nil {
		if el, ok := err.(conf.ErrorList); ok {
			l.errs = append(l.errs, el...)
			return nil
		}
		return argError(d, 0, "cannot read state file %q: %v", path, err)
	}
	seen := map[string]bool{}
	for _, sd := range tree.Directives {
		if sd.Name != "server" {
			l.errorf(sd.Pos, "unexpected %q in state file: it holds only \"server\" lines, written by bunsan", sd.Name)
			continue
		}
		l.directive(s, sd, seen)
	}
	return nil
}
