package conf

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds arbitrary bytes to the parser: it must not panic or hang,
// and whatever parses cleanly must survive Print and parse again unchanged.
// Includes resolve in an in-memory file system, so fuzzed paths never touch
// the disk.
func FuzzParse(f *testing.F) {
	entries, err := os.ReadDir("testdata")
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		if e.Type().IsRegular() {
			f.Add(readTestdata(f, filepath.Base(e.Name())))
		}
	}
	for _, s := range []string{
		`a "b"c;`, `a "b"}`, "a \"b", `${x}{`, `a\`, "// x\ny;", "include /etc/nginx/mime.types;",
		"include /etc/nginx/*/*;", "a{{{{}}}", "}}};;;", "\xEF\xBB\xBFa;", `a '\'' "\"" \\ \t;`,
	} {
		f.Add(s)
	}
	fsys := seedFS(f)
	fsys["/etc/nginx/loop.conf"] = "include loop.conf;"
	f.Fuzz(func(t *testing.T, src string) {
		cfg, err := parseMem(t, fsys, src)
		if cfg == nil {
			t.Fatal("nil config")
		}
		if err != nil {
			if _, ok := err.(ErrorList); !ok {
				t.Fatalf("error is %T", err)
			}
			return
		}
		checkRoundTrip(t, fsys, cfg.Directives)
	})
}

// FuzzFormatWord checks that every value, however odd, is printed in a form
// that reads back as the same value, whatever quoting it came with.
func FuzzFormatWord(f *testing.F) {
	for _, s := range []string{"", "a b", `\`, `\"`, "${a}{", "#", "}", "\n", `'"`, "//"} {
		f.Add(s, byte(0))
		f.Add(s, byte('\''))
	}
	f.Fuzz(func(t *testing.T, v string, q byte) {
		for _, isName := range []bool{false, true} {
			s := formatWord(v, q, isName)
			if !lexesAs(s, v) {
				t.Fatalf("formatWord(%q, %q) = %s does not read back", v, q, s)
			}
		}
	})
}
