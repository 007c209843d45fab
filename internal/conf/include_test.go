package conf

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestIncludeGlobSortedAndSpliced(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"nginx.conf":        "user a;\nhttp {\n    include conf.d/*.conf;\n    gzip on;\n}\n",
		"conf.d/b.conf":     "b;",
		"conf.d/a.conf":     "a;",
		"conf.d/10-x.conf":  "x;",
		"conf.d/B.conf":     "B;",
		"conf.d/.hide.conf": "hidden;",
		"conf.d/c.txt":      "txt;",
	})
	cfg, err := ParseFile(filepath.Join(dir, "nginx.conf"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Byte order, as glob(3) sorts in the C locale nginx runs in.
	assertTree(t, cfg.Directives, []node{d("user", "a"), b("http", nil, d("x"), d("B"), d("a"), d("b"), d("gzip", "on"))})
	var paths []string
	for _, f := range cfg.Files {
		paths = append(paths, strings.TrimPrefix(f.Path, dir+"/"))
	}
	want := []string{filepath.Join(dir, "nginx.conf"), "conf.d/10-x.conf", "conf.d/B.conf", "conf.d/a.conf", "conf.d/b.conf"}
	want[0] = strings.TrimPrefix(want[0], dir+"/")
	if !reflect.DeepEqual(paths, want) {
		t.Errorf("files %q, want %q", paths, want)
	}
	if got := cfg.Files[1].Data; string(got) != "x;" {
		t.Errorf("data %q", got)
	}
	x := cfg.Directives[1].Block[0]
	if want := filepath.Join(dir, "conf.d/10-x.conf") + ":1:1"; x.Pos.String() != want {
		t.Errorf("included directive at %s, want %s", x.Pos, want)
	}
}

func TestIncludeRelativeToConfDir(t *testing.T) {
	// nginx resolves every relative include from the main file's
	// directory, not from the including file's.
	dir := writeFiles(t, map[string]string{
		"nginx.conf":                 "include sites/site.conf;",
		"sites/site.conf":            "server { include snippets/common.conf; }",
		"snippets/common.conf":       "listen 80;",
		"sites/snippets/common.conf": "wrong;",
	})
	cfg, err := ParseFile(filepath.Join(dir, "nginx.conf"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	assertTree(t, cfg.Directives, []node{b("server", nil, d("listen", "80"))})

	// An explicit ConfDir wins, for ParseFile and ParseString alike.
	cfg, err = ParseString("command line", "include common.conf;", Options{ConfDir: filepath.Join(dir, "snippets")})
	if err != nil {
		t.Fatal(err)
	}
	assertTree(t, cfg.Directives, []node{d("listen", "80")})
	if len(cfg.Files) != 2 || cfg.Files[0].Path != "command line" || string(cfg.Files[0].Data) != "include common.conf;" {
		t.Errorf("files %+v", cfg.Files)
	}

	// Absolute paths ignore ConfDir.
	cfg, err = ParseString("t", "include "+filepath.Join(dir, "snippets", "common.conf")+";", Options{ConfDir: "/nonexistent"})
	if err != nil {
		t.Fatal(err)
	}
	assertTree(t, cfg.Directives, []node{d("listen", "80")})
}

func TestIncludeSameFileTwiceIsRecordedOnce(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"nginx.conf": "a { include p.conf; }\nb { include p.conf; }\n",
		"p.conf":     "proxy_set_header Host $host;",
	})
	cfg, err := ParseFile(filepath.Join(dir, "nginx.conf"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := d("proxy_set_header", "Host", "$host")
	assertTree(t, cfg.Directives, []node{b("a", nil, h), b("b", nil, h)})
	if len(cfg.Files) != 2 {
		t.Errorf("%d files recorded", len(cfg.Files))
	}
	// Each splice is its own node, so later stages may annotate freely.
	if cfg.Directives[0].Block[0] == cfg.Directives[1].Block[0] {
		t.Error("included directives are shared between splices")
	}
}

func TestIncludeErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []string // "DIR" stands for the temp dir
		tree  []node
	}{
		{
			"missing file", map[string]string{"nginx.conf": "user a;\ninclude missing.conf;\nuser b;"},
			[]string{`DIR/nginx.conf:2:1: cannot open included file "DIR/missing.conf": no such file or directory; check the name (relative include paths are resolved from "DIR", the main configuration directory)`},
			[]node{d("user", "a"), d("user", "b")},
		},
		{
			"missing absolute file", map[string]string{"nginx.conf": "include /nonexistent/x.conf;"},
			[]string{`DIR/nginx.conf:1:1: cannot open included file "/nonexistent/x.conf": no such file or directory; check the name`},
			nil,
		},
		{
			"glob without match is fine", map[string]string{"nginx.conf": "include none/*.conf;\ninclude *.none;\nuser a;"},
			nil,
			[]node{d("user", "a")},
		},
		{
			"bad bracket is a literal", map[string]string{"nginx.conf": "include a[.conf;", "a[.conf": "x;"},
			nil,
			[]node{d("x")},
		},
		{
			"negated class", map[string]string{"nginx.conf": "include [!b]*.inc;", "a.inc": "a;", "b.inc": "b;"},
			nil,
			[]node{d("a")},
		},
		{
			"directory matched by glob", map[string]string{"nginx.conf": "include conf.d/*;", "conf.d/a": "a;", "conf.d/sub/x.conf": "x;"},
			[]string{`DIR/nginx.conf:1:1: cannot include "DIR/conf.d/sub": it is a directory; include the files in it with a pattern such as "DIR/conf.d/sub/*.conf"`},
			[]node{d("a")},
		},
		{
			"hidden files need a literal dot", map[string]string{"nginx.conf": "include .h*;", ".hidden": "h;"},
			nil,
			[]node{d("h")},
		},
		{
			"include loop", map[string]string{"nginx.conf": "include a.conf;", "a.conf": "a;\ninclude b.conf;", "b.conf": "include a.conf;\nb;"},
			[]string{`DIR/b.conf:1:1: include loop: DIR/a.conf -> DIR/b.conf -> DIR/a.conf; remove the include that leads back to "DIR/a.conf"`},
			[]node{d("a"), d("b")},
		},
		{
			"main file includes itself through a glob", map[string]string{"nginx.conf": "include *.conf;\nmain;", "x.conf": "x;"},
			[]string{`DIR/nginx.conf:1:1: include loop: DIR/nginx.conf -> DIR/nginx.conf; remove the include that leads back to "DIR/nginx.conf"`},
			[]node{d("x"), d("main")},
		},
		{
			"wrong argument count", map[string]string{"nginx.conf": "include;\ninclude a b;"},
			[]string{
				`DIR/nginx.conf:1:1: invalid number of arguments in "include" directive: it takes exactly one file name or pattern`,
				`DIR/nginx.conf:2:1: invalid number of arguments in "include" directive: it takes exactly one file name or pattern`,
			},
			nil,
		},
		{
			"include with a block", map[string]string{"nginx.conf": "include a.conf { x; }\nuser a;", "a.conf": "a;"},
			[]string{`DIR/nginx.conf:1:1: "include" directive cannot have a block; write "include FILE;"`},
			[]node{d("user", "a")},
		},
		{
			"blocks do not span files", map[string]string{"nginx.conf": "http {\n    include close.conf;\n}\ninclude open.conf;\n}", "close.conf": "}", "open.conf": "events {"},
			[]string{
				`DIR/close.conf:1:1: unexpected "}": no block is open here; remove it or look for an extra "}" above`,
				`DIR/open.conf:1:1: unexpected end of file, expecting "}": block "events" opened here is never closed; add the missing "}"`,
				`DIR/nginx.conf:5:1: unexpected "}": no block is open here; remove it or look for an extra "}" above`,
			},
			[]node{b("http", nil), b("events", nil)},
		},
		{
			"errors in included files are reported in place", map[string]string{"nginx.conf": "a;;\ninclude x.conf;\nb;;", "x.conf": "x;;"},
			[]string{
				`DIR/nginx.conf:1:3: unexpected ";": there is no directive before it; remove the extra ";"`,
				`DIR/x.conf:1:3: unexpected ";": there is no directive before it; remove the extra ";"`,
				`DIR/nginx.conf:3:3: unexpected ";": there is no directive before it; remove the extra ";"`,
			},
			[]node{d("a"), d("x"), d("b")},
		},
		{
			"include with missing semicolon still expands", map[string]string{"nginx.conf": "http {\n    include x.conf\n}", "x.conf": "x;"},
			[]string{`DIR/nginx.conf:2:19: missing ";" after "include x.conf": every directive ends with ";"`},
			[]node{b("http", nil, d("x"))},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeFiles(t, tt.files)
			cfg, err := ParseFile(filepath.Join(dir, "nginx.conf"), Options{})
			var want []string
			for _, w := range tt.want {
				want = append(want, strings.ReplaceAll(w, "DIR", dir))
			}
			assertErrors(t, err, want...)
			if tt.tree != nil {
				assertTree(t, cfg.Directives, tt.tree)
			}
		})
	}
}

func TestIncludeSymlinkLoop(t *testing.T) {
	dir := writeFiles(t, map[string]string{"nginx.conf": "include link/x.conf;", "x.conf": "include link/link/x.conf;"})
	if err := os.Symlink(".", filepath.Join(dir, "link")); err != nil {
		t.Skip("no symlinks:", err)
	}
	_, err := ParseFile(filepath.Join(dir, "nginx.conf"), Options{})
	want := fmt.Sprintf(`%s/link/x.conf:1:1: include loop: %s/link/x.conf -> %s/link/link/x.conf; remove the include that leads back to "%s/link/x.conf"`, dir, dir, dir, dir)
	assertErrors(t, err, want)
}

func TestIncludeDepthLimit(t *testing.T) {
	// Distinct files, so only the depth cap stops the chain.
	fsys := memFS{"/c/nginx.conf": "include 1.conf;"}
	for i := 1; i <= 40; i++ {
		fsys[fmt.Sprintf("/c/%d.conf", i)] = fmt.Sprintf("include %d.conf;", i+1)
	}
	_, err := parse("/c/nginx.conf", nil, false, Options{ConfDir: "/c", MaxIncludeDepth: 5}, fsys)
	assertErrors(t, err, `/c/5.conf:1:1: includes are nested more than 5 levels deep at "/c/6.conf"; check for an include loop`)
}

func TestIncludeExpansionLimit(t *testing.T) {
	// Each level includes the next one 16 times: 16^5 expansions unless
	// capped.
	fsys := memFS{"/c/nginx.conf": "include 1.conf;"}
	for i := 1; i <= 5; i++ {
		fsys[fmt.Sprintf("/c/%d.conf", i)] = strings.Repeat(fmt.Sprintf("include %d.conf;\n", i+1), 16)
	}
	fsys["/c/6.conf"] = "x;"
	_, err := parse("/c/nginx.conf", nil, false, Options{ConfDir: "/c"}, fsys)
	assertErrors(t, err, `/c/5.conf:16:1: more than 65536 include expansions; check for files that include each other many times over`)
}

func TestGlob(t *testing.T) {
	fsys := memFS{
		"/e/conf.d/a.conf":  "",
		"/e/conf.d/b.conf":  "",
		"/e/conf.d/.x.conf": "",
		"/e/a-b/x.conf":     "",
		"/e/a/x.conf":       "",
		"/e/a/y.txt":        "",
		"/e/[lit]/q.conf":   "",
		"/e/sites/s1":       "",
	}
	tests := []struct {
		pattern string
		want    []string
	}{
		{"/e/conf.d/*.conf", []string{"/e/conf.d/a.conf", "/e/conf.d/b.conf"}},
		{"/e/conf.d/.*", []string{"/e/conf.d/.x.conf"}},
		{"/e/*/x.conf", []string{"/e/a-b/x.conf", "/e/a/x.conf"}}, // whole-path byte order
		{"/e/a/?.*", []string{"/e/a/x.conf", "/e/a/y.txt"}},
		{"/e/\\[lit]/*.conf", []string{"/e/[lit]/q.conf"}},
		{"/e/sites/*", []string{"/e/sites/s1"}},
		{"/e/nope/*", nil},
		{"/e//conf.d/a*", []string{"/e/conf.d/a.conf"}},
	}
	for _, tt := range tests {
		if got := glob(fsys, tt.pattern); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("glob(%q) = %q, want %q", tt.pattern, got, tt.want)
		}
	}
}
