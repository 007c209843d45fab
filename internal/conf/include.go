package conf

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// fileSystem is what the parser needs from the disk. Tests and the fuzz
// target substitute an in-memory one so that fuzzed "include" directives can
// never reach real files such as /dev/stdin.
type fileSystem interface {
	// readFile returns a regular file's bytes and an identity that is the
	// same for every path naming that file (symlinks resolved), used to
	// detect include loops.
	readFile(path string) (data []byte, id string, err error)
	// readDirNames lists the names in a directory, in any order.
	readDirNames(dir string) ([]string, error)
	// exists reports whether path exists, without following a final
	// symlink, as glob(3) checks pattern components without wildcards.
	exists(path string) bool
}

var (
	errIsDir      = errors.New("is a directory")
	errNotRegular = errors.New("is not a regular file")
)

type osFS struct{}

func (osFS) readFile(path string) ([]byte, string, error) {
	// Stat first: nginx reads a file by its size, so a device such as
	// /dev/zero must not be read until memory runs out.
	fi, err := os.Stat(path)
	if err != nil {
		return nil, "", err
	}
	if fi.IsDir() {
		return nil, "", errIsDir
	}
	if !fi.Mode().IsRegular() {
		return nil, "", errNotRegular
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, "", err
	}
	id := path
	if abs, err := filepath.Abs(path); err == nil {
		id = abs
		if real, err := filepath.EvalSymlinks(abs); err == nil {
			id = real
		}
	}
	return data, id, nil
}

func (osFS) readDirNames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}

func (osFS) exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

type cachedFile struct {
	data []byte
	id   string
	err  error
}

type includeFrame struct {
	id, path string
}

// read returns a file's contents, reading each path once per parse: the
// same snippet is often included in hundreds of locations.
func (p *parser) read(path string) cachedFile {
	if f, ok := p.cache[path]; ok {
		return f
	}
	var f cachedFile
	f.data, f.id, f.err = p.fsys.readFile(path)
	p.cache[path] = f
	if f.err == nil {
		p.record(f.id, path, f.data)
	}
	return f
}

func (p *parser) record(id, path string, data []byte) {
	if !p.recorded[id] {
		p.recorded[id] = true
		p.files = append(p.files, File{Path: path, Data: data})
	}
}

// reason turns a file error into the short text after the path.
func reason(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// include expands one include directive, as ngx_conf_include does: the
// path is relative to ConfDir; with any of "*?[" in it the files matching
// it are read in sorted order and no match is fine; otherwise the file must
// exist.
func (p *parser) include(d *Directive, depth int) []*Directive {
	if d.HasBlock {
		p.errorf(d.Pos, `"include" directive cannot have a block; write "include FILE;"`)
		return nil
	}
	if len(d.Args) != 1 {
		p.errorf(d.Pos, `invalid number of arguments in "include" directive: it takes exactly one file name or pattern`)
		return nil
	}
	name := d.Args[0]
	full := name
	if !filepath.IsAbs(name) {
		full = strings.TrimSuffix(p.opts.ConfDir, "/") + "/" + name
	}
	// nginx tests the full name, so a ConfDir with "[" in it globs too.
	if !strings.ContainsAny(full, "*?[") {
		return p.includeFile(d, full, name != full, depth)
	}
	var out []*Directive
	for _, m := range glob(p.fsys, full) {
		out = append(out, p.includeFile(d, m, false, depth)...)
	}
	return out
}

func (p *parser) includeFile(d *Directive, path string, relative bool, depth int) []*Directive {
	if len(p.stack) > p.opts.MaxIncludeDepth {
		p.errorf(d.Pos, "includes are nested more than %d levels deep at %q; check for an include loop", p.opts.MaxIncludeDepth, path)
		return nil
	}
	if p.includes >= maxIncludedFiles {
		if p.includes == maxIncludedFiles {
			p.errorf(d.Pos, "more than %d include expansions; check for files that include each other many times over", maxIncludedFiles)
			p.includes++
		}
		return nil
	}
	p.includes++
	f := p.read(path)
	if f.err != nil {
		switch {
		case errors.Is(f.err, errIsDir):
			p.errorf(d.Pos, "cannot include %q: it is a directory; include the files in it with a pattern such as %q", path, strings.TrimSuffix(path, "/")+"/*.conf")
		case relative:
			p.errorf(d.Pos, "cannot open included file %q: %s; check the name (relative include paths are resolved from %q, the main configuration directory)", path, reason(f.err), p.opts.ConfDir)
		default:
			p.errorf(d.Pos, "cannot open included file %q: %s; check the name", path, reason(f.err))
		}
		return nil
	}
	for i, fr := range p.stack {
		if fr.id == f.id {
			chain := make([]string, 0, len(p.stack)-i+1)
			for _, fr := range p.stack[i:] {
				chain = append(chain, fr.path)
			}
			chain = append(chain, path)
			p.errorf(d.Pos, "include loop: %s; remove the include that leads back to %q", strings.Join(chain, " -> "), fr.path)
			return nil
		}
	}
	p.stack = append(p.stack, includeFrame{id: f.id, path: path})
	dirs := p.parseFile(path, f.data, depth)
	p.stack = p.stack[:len(p.stack)-1]
	return dirs
}

// glob matches pattern like glob(3) with no flags, which nginx uses: "*",
// "?" and "[...]" (also "[!...]") within one path component, a leading "."
// of a name matched only by a literal "." in the pattern, and the result
// sorted byte-wise as a whole.
func glob(fsys fileSystem, pattern string) []string {
	parts := strings.Split(pattern, "/")
	paths := []string{""}
	if parts[0] == "" { // absolute
		paths, parts = []string{"/"}, parts[1:]
	}
	for i, part := range parts {
		last := i == len(parts)-1
		if part == "" && !last {
			continue // "a//b"
		}
		if !strings.ContainsAny(part, "*?[") {
			part = unescapeGlob(part)
			for j := range paths {
				paths[j] = joinPath(paths[j], part)
			}
			continue
		}
		match := componentMatcher(part)
		var next []string
		for _, dir := range paths {
			names, err := fsys.readDirNames(orDot(dir))
			if err != nil {
				continue // not a directory or unreadable: no match, as glob(3)
			}
			for _, n := range names {
				if n[0] == '.' && part[0] != '.' {
					continue
				}
				if match(n) {
					next = append(next, joinPath(dir, n))
				}
			}
		}
		paths = next
	}
	var out []string
	for _, p := range paths {
		if fsys.exists(orDot(p)) {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// componentMatcher returns a matcher for one pattern component. glob(3)
// reads a "[" that starts no valid class as a literal "[", where
// path/filepath reports a bad pattern; retry that way, and as a last resort
// compare the name literally, so a pattern never fails.
func componentMatcher(part string) func(string) bool {
	part = bangToCaret(part)
	for _, pat := range []string{part, strings.ReplaceAll(part, "[", `\[`)} {
		if _, err := filepath.Match(pat, ""); err == nil {
			return func(name string) bool {
				ok, _ := filepath.Match(pat, name)
				return ok
			}
		}
	}
	lit := unescapeGlob(part)
	return func(name string) bool { return name == lit }
}

func orDot(p string) string {
	if p == "" {
		return "."
	}
	return p
}

func joinPath(dir, name string) string {
	switch {
	case dir == "":
		return name
	case strings.HasSuffix(dir, "/"):
		return dir + name
	}
	return dir + "/" + name
}

// unescapeGlob drops the backslashes of a component that has no wildcard,
// as glob(3) does before looking the name up.
func unescapeGlob(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// bangToCaret rewrites "[!" to "[^": glob(3) negates a class with "!",
// path/filepath only with "^".
func bangToCaret(s string) string {
	if !strings.Contains(s, "[!") {
		return s
	}
	b := []byte(s)
	for i := 0; i+1 < len(b); i++ {
		if b[i] == '\\' {
			i++
			continue
		}
		if b[i] == '[' && b[i+1] == '!' {
			b[i+1] = '^'
		}
	}
	return string(b)
}
