package conf

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// node is a directive without positions or quoting, for comparing trees.
type node struct {
	Name     string
	Args     []string
	HasBlock bool
	Block    []node
}

// d builds an expected simple directive.
func d(name string, args ...string) node { return node{Name: name, Args: args} }

// b builds an expected block directive: args first, then children.
func b(name string, args []string, children ...node) node {
	return node{Name: name, Args: args, HasBlock: true, Block: children}
}

func args(a ...string) []string { return a }

func strip(dirs []*Directive) []node {
	var out []node
	for _, x := range dirs {
		n := node{Name: x.Name, HasBlock: x.HasBlock, Block: strip(x.Block)}
		if len(x.Args) > 0 {
			n.Args = append([]string(nil), x.Args...)
		}
		out = append(out, n)
	}
	return out
}

func dump(nodes []node) string {
	var sb strings.Builder
	var walk func([]node, string)
	walk = func(ns []node, indent string) {
		for _, n := range ns {
			fmt.Fprintf(&sb, "%s%q %q", indent, n.Name, n.Args)
			if n.HasBlock {
				sb.WriteString(" {\n")
				walk(n.Block, indent+"  ")
				sb.WriteString(indent + "}")
			}
			sb.WriteByte('\n')
		}
	}
	walk(nodes, "")
	return sb.String()
}

func assertTree(t *testing.T, got []*Directive, want []node) {
	t.Helper()
	if g := strip(got); !reflect.DeepEqual(g, want) {
		t.Errorf("tree mismatch\n got:\n%s\nwant:\n%s", dump(g), dump(want))
	}
}

// errStrings lists the messages of err, which must be nil or an ErrorList.
func errStrings(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	list, ok := err.(ErrorList)
	if !ok {
		t.Fatalf("error is %T, want ErrorList", err)
	}
	var out []string
	for _, e := range list {
		out = append(out, e.Error())
	}
	return out
}

func assertErrors(t *testing.T, err error, want ...string) {
	t.Helper()
	got := errStrings(t, err)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("errors mismatch\n got:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func mustParse(t *testing.T, src string) *Config {
	t.Helper()
	cfg, err := ParseString("t.conf", src, Options{})
	if err != nil {
		t.Fatalf("parse %q: %v", src, err)
	}
	return cfg
}

// writeFiles creates files (name -> content) under a new temp dir and
// returns the dir.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func readTestdata(t testing.TB, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// memFS is an in-memory fileSystem keyed by clean absolute paths; a path
// that is a prefix of a file's path is a directory.
type memFS map[string]string

func (m memFS) readFile(p string) ([]byte, string, error) {
	c := path.Clean(p)
	if s, ok := m[c]; ok {
		return []byte(s), c, nil
	}
	if m.isDir(c) {
		return nil, "", errIsDir
	}
	return nil, "", &fs.PathError{Op: "open", Path: p, Err: fs.ErrNotExist}
}

func (m memFS) isDir(c string) bool {
	for k := range m {
		if strings.HasPrefix(k, strings.TrimSuffix(c, "/")+"/") {
			return true
		}
	}
	return false
}

func (m memFS) readDirNames(dir string) ([]string, error) {
	prefix := strings.TrimSuffix(path.Clean(dir), "/") + "/"
	seen := map[string]bool{}
	for k := range m {
		if rest, ok := strings.CutPrefix(k, prefix); ok {
			seen[strings.SplitN(rest, "/", 2)[0]] = true
		}
	}
	if len(seen) == 0 {
		return nil, fs.ErrNotExist
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Sort(sort.Reverse(sort.StringSlice(names))) // any order must do
	return names, nil
}

func (m memFS) exists(p string) bool {
	c := path.Clean(p)
	_, ok := m[c]
	return ok || m.isDir(c)
}
