package config

import (
	"runtime"
	"sync"
	"weak"

	"bunsan/internal/conf"
)

// BasicAuth is HTTP basic authentication as auth_basic and
// auth_basic_user_file configure it for one location, after inheritance
// from the enclosing levels. Nil means no authentication.
type BasicAuth struct {
	// Realm is auth_basic's text, sent in WWW-Authenticate.
	Realm string
	// UserFile is the absolute path of the htpasswd file. As in nginx it
	// is read when a request needs it, so edits apply without a reload.
	UserFile string
	Pos      Pos
}

// authLevel is what one level (http, server or location) writes.
type authLevel struct {
	realm, file       string
	realmSet, fileSet bool
	off               bool
	pos               Pos
}

// The levels' settings sit beside the model rather than in it: a side
// table per level type, keyed weakly by the model object, so that it
// needs no field in the model's types and goes away with the model.
var authTables struct {
	mu   sync.Mutex
	http map[weak.Pointer[HTTP]]*authLevel
	srv  map[weak.Pointer[Server]]*authLevel
	loc  map[weak.Pointer[Location]]*authLevel
}

func authEntry[T any](m *map[weak.Pointer[T]]*authLevel, obj *T) *authLevel {
	if *m == nil {
		*m = map[weak.Pointer[T]]*authLevel{}
	}
	k := weak.Make(obj)
	a := (*m)[k]
	if a == nil {
		a = &authLevel{}
		(*m)[k] = a
		runtime.AddCleanup(obj, func(k weak.Pointer[T]) {
			authTables.mu.Lock()
			delete(*m, k)
			authTables.mu.Unlock()
		}, k)
	}
	return a
}

func authLookup[T any](m map[weak.Pointer[T]]*authLevel, obj *T) *authLevel {
	if obj == nil {
		return nil
	}
	return m[weak.Make(obj)]
}

// levelFor returns the settings of the level s stands at.
func (l *loader) authLevelFor(s *scope) *authLevel {
	authTables.mu.Lock()
	defer authTables.mu.Unlock()
	switch {
	case s.loc != nil:
		return authEntry(&authTables.loc, s.loc)
	case s.srv != nil:
		return authEntry(&authTables.srv, s.srv)
	}
	return authEntry(&authTables.http, l.http)
}

func handleAuthBasic(l *loader, s *scope, d *conf.Directive) error {
	a := l.authLevelFor(s)
	a.realmSet, a.pos = true, toPos(d.Pos)
	a.off = d.Args[0] == "off"
	a.realm = d.Args[0]
	return nil
}

func handleAuthBasicUserFile(l *loader, s *scope, d *conf.Directive) error {
	a := l.authLevelFor(s)
	a.fileSet = true
	// nginx resolves it against the configuration prefix (the directory
	// of the main file).
	a.file = l.confPath(d.Args[0])
	if err := fileExists(a.file); err != nil {
		return argError(d, 0, "cannot read auth_basic_user_file %q: %v", a.file, err)
	}
	return nil
}

// BasicAuth returns the basic authentication of location loc of server
// srv: each of auth_basic and auth_basic_user_file comes from the
// innermost level that writes it (location, enclosing locations, server,
// http), as nginx inherits them. Nil when auth_basic is off or absent.
func (m *Model) BasicAuth(srv *Server, loc *Location) *BasicAuth {
	return m.HTTP.BasicAuth(srv, loc)
}

// BasicAuth is Model.BasicAuth for the http block h (nil: none).
func (h *HTTP) BasicAuth(srv *Server, loc *Location) *BasicAuth {
	authTables.mu.Lock()
	defer authTables.mu.Unlock()
	var levels []*authLevel
	if loc != nil && srv != nil {
		chain := locationChain(srv.Locations, loc)
		for i := len(chain) - 1; i >= 0; i-- {
			levels = append(levels, authLookup(authTables.loc, chain[i]))
		}
	}
	levels = append(levels, authLookup(authTables.srv, srv))
	if h != nil {
		levels = append(levels, authLookup(authTables.http, h))
	}
	var realm, file *authLevel
	for _, a := range levels {
		if a == nil {
			continue
		}
		if realm == nil && a.realmSet {
			realm = a
		}
		if file == nil && a.fileSet {
			file = a
		}
	}
	if realm == nil || realm.off || file == nil {
		return nil
	}
	return &BasicAuth{Realm: realm.realm, UserFile: file.file, Pos: realm.pos}
}

// locationChain is the path from a top-level location to loc, outermost
// first; nil if loc is not under locs.
func locationChain(locs []*Location, loc *Location) []*Location {
	for _, l := range locs {
		if l == loc {
			return []*Location{l}
		}
		if sub := locationChain(l.Locations, loc); sub != nil {
			return append([]*Location{l}, sub...)
		}
	}
	return nil
}
