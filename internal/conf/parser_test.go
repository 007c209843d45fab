package conf

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseValid(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []node
	}{
		{"empty", "", nil},
		{"comments only", "# a\n  # b\n", nil},
		{"simple", "worker_processes 4;", []node{d("worker_processes", "4")}},
		{"no args", "ip_hash;", []node{d("ip_hash")}},
		{"empty block", "events {}", []node{b("events", nil)}},
		{
			"nested", "http { server { listen 80; location / { root /srv; } } }",
			[]node{b("http", nil, b("server", nil, d("listen", "80"), b("location", args("/"), d("root", "/srv"))))},
		},
		{
			"regex location and escapes", `location ~* \.(gif|jpg)$ { return 200 "a\"b\n"; }`,
			[]node{b("location", args("~*", `\.(gif|jpg)$`), d("return", "200", "a\"b\n"))},
		},
		{
			"multi-line directive", "log_format main '$a'\n    '$b';",
			[]node{d("log_format", "main", "$a", "$b")},
		},
		{
			"multi-line block header is valid nginx", "map $a\n    $b {\n default 1;\n}",
			[]node{b("map", args("$a", "$b"), d("default", "1"))},
		},
		{"empty string arg", `map $a $b { "" x; }`, []node{b("map", args("$a", "$b"), d("", "x"))}},
		{"quoted name", `"listen" 80;`, []node{d("listen", "80")}},
		{"variables", `set $x "${a}b"; return 301 ${scheme}://$host;`, []node{d("set", "$x", "${a}b"), d("return", "301", "${scheme}://$host")}},
		{"if with parens", `if ($request_uri ~ "^/a") { return 404; }`, []node{b("if", args("($request_uri", "~", "^/a", ")"), d("return", "404"))}},
		{"utf-8", "server_name 모모.한국;\nadd_header X-인사 \"안녕하세요\";", []node{d("server_name", "모모.한국"), d("add_header", "X-인사", "안녕하세요")}},
		{"protocol-relative arg is not a comment", "return 301 //example.com$request_uri;", []node{d("return", "301", "//example.com$request_uri")}},
		{"quoted // name is not a comment", `"//x" y;`, []node{d("//x", "y")}},
		{"crlf", "events {\r\n}\r\nuser a;\r\n", []node{b("events", nil), d("user", "a")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertTree(t, mustParse(t, tt.src).Directives, tt.want)
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
		tree []node // the recovered tree; nil skips the check
	}{
		{
			"stray semicolon", "listen 80;;",
			[]string{`t.conf:1:11: unexpected ";": there is no directive before it; remove the extra ";"`},
			[]node{d("listen", "80")},
		},
		{
			"stray closing brace", "user a;\n}\nworker_processes 2;",
			[]string{`t.conf:2:1: unexpected "}": no block is open here; remove it or look for an extra "}" above`},
			[]node{d("user", "a"), d("worker_processes", "2")},
		},
		{
			"extra closing brace with indentation hint",
			"http {\n    server {\n        listen 80;\n        }\n    }\n}\nuser a;\n",
			[]string{`t.conf:6:1: unexpected "}": no block is open here; remove it or look for an extra "}" above; the "}" at line 4 closes "server" from line 2 but is indented deeper, so it may be the extra one`},
			[]node{b("http", nil, b("server", nil, d("listen", "80"))), d("user", "a")},
		},
		{
			"brace without name", "{ listen 80; }\nuser a;",
			[]string{`t.conf:1:1: unexpected "{": a block must follow a directive name, as in "server {"`},
			[]node{d("user", "a")},
		},
		{
			"semicolon before block", "server;\n{\n    listen 80;\n}",
			[]string{`t.conf:2:1: unexpected "{": the directive "server" before it already ended with ";" at t.conf:1:7; remove that ";" to give it this block`},
			[]node{d("server")},
		},
		{
			"eof after directive", "worker_processes 4",
			[]string{`t.conf:1:19: unexpected end of file, expecting ";" or "}": add ";" after "worker_processes 4"`},
			[]node{d("worker_processes", "4")},
		},
		{
			"missing semicolon before closing brace", "events { worker_connections 10 }",
			[]string{`t.conf:1:31: missing ";" after "worker_connections 10": every directive ends with ";"`},
			[]node{b("events", nil, d("worker_connections", "10"))},
		},
		{
			"closing brace glued to word is text, as in nginx", "events { worker_connections 10}",
			[]string{
				`t.conf:1:32: unexpected end of file, expecting ";" or "}": add ";" after "worker_connections 10}"`,
				`t.conf:1:1: unexpected end of file, expecting "}": block "events" opened here is never closed; add the missing "}"`,
			},
			nil,
		},
		{
			"missing semicolons in upstream",
			"upstream momo_server {\n    server 10.0.0.1:8080\n    server 10.0.0.2:8080\n}\n",
			[]string{
				`t.conf:2:25: missing ";" after "server 10.0.0.1:8080": every directive ends with ";"`,
				`t.conf:3:25: missing ";" after "server 10.0.0.2:8080": every directive ends with ";"`,
			},
			[]node{b("upstream", args("momo_server"), d("server", "10.0.0.1:8080"), d("server", "10.0.0.2:8080"))},
		},
		{
			"missing semicolon then eof splits lines",
			"user a\nworker_processes 2\n",
			[]string{
				`t.conf:1:7: missing ";" after "user a": every directive ends with ";"`,
				`t.conf:2:19: unexpected end of file, expecting ";" or "}": add ";" after "worker_processes 2"`,
			},
			[]node{d("user", "a"), d("worker_processes", "2")},
		},
		{
			"long directive text is shortened",
			"events { a " + strings.Repeat("b", 80) + " }",
			[]string{`t.conf:1:92: missing ";" after "a ` + strings.Repeat("b", 58) + `...": every directive ends with ";"`},
			nil,
		},
		{
			"slash comment", "// https인증을 진행 코드\nssl_certificate /a.pem;",
			[]string{`t.conf:1:1: "//" does not start a comment in nginx configuration; use "#"`},
			[]node{d("ssl_certificate", "/a.pem")},
		},
		{
			"slash comment with braces and semicolons", "server {\n    //listen 80; server {\n    listen 81;\n}",
			[]string{`t.conf:2:5: "//" does not start a comment in nginx configuration; use "#"`},
			[]node{b("server", nil, d("listen", "81"))},
		},
		{
			"slash comment ending in backslash", "// C:\\\nuser a;",
			[]string{`t.conf:1:1: "//" does not start a comment in nginx configuration; use "#"`},
			[]node{d("user", "a")},
		},
		{
			"unclosed block", "http {\n    server {\n        listen 80;\n    }\n",
			[]string{`t.conf:1:1: unexpected end of file, expecting "}": block "http" opened here is never closed; add the missing "}"`},
			[]node{b("http", nil, b("server", nil, d("listen", "80")))},
		},
		{
			"unclosed block with indentation hint",
			"http {\n    server {\n        location / {\n            root /srv;\n    }\n}\n",
			[]string{`t.conf:1:1: unexpected end of file, expecting "}": block "http" opened here is never closed; add the missing "}"; the "}" at line 5 is indented like the end of "server" (line 2) but closes "location" from line 3, so "location" is probably the block missing its "}"`},
			nil,
		},
		{
			"two unclosed blocks", "http {\n  server {\n",
			[]string{
				`t.conf:2:3: unexpected end of file, expecting "}": block "server" opened here is never closed; add the missing "}"`,
				`t.conf:1:1: unexpected end of file, expecting "}": block "http" opened here is never closed; add the missing "}"`,
			},
			[]node{b("http", nil, b("server", nil))},
		},
		{
			"unterminated quote reports once", "http {\n    return 200 \"ok;\n}\n",
			[]string{`t.conf:2:16: unexpected end of file inside a quoted value that starts here; add the closing double quote`},
			nil,
		},
		{
			"quote glued to closing brace recovers as ;", `location / { return 200 "x"}`,
			[]string{`t.conf:1:28: unexpected "}" after closing quote: end the directive with ";" before "}"`},
			[]node{b("location", args("/"), d("return", "200", "x"))},
		},
		{
			"byte order mark", "\xEF\xBB\xBFuser a;",
			[]string{`t.conf:1:1: file starts with a UTF-8 byte order mark, which nginx reads as part of the first directive; save the file as UTF-8 without BOM`},
			[]node{d("user", "a")},
		},
		{
			"several errors in order", "a;;\n}\nb {\n    c\n}\n// x\nd e",
			[]string{
				`t.conf:1:3: unexpected ";": there is no directive before it; remove the extra ";"`,
				`t.conf:2:1: unexpected "}": no block is open here; remove it or look for an extra "}" above`,
				`t.conf:4:6: missing ";" after "c": every directive ends with ";"`,
				`t.conf:6:1: "//" does not start a comment in nginx configuration; use "#"`,
				`t.conf:7:4: unexpected end of file, expecting ";" or "}": add ";" after "d e"`,
			},
			[]node{d("a"), b("b", nil, d("c")), d("d", "e")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := ParseString("t.conf", tt.src, Options{})
			assertErrors(t, err, tt.want...)
			if cfg == nil {
				t.Fatal("nil config with errors")
			}
			if tt.tree != nil {
				assertTree(t, cfg.Directives, tt.tree)
			}
		})
	}
}

func TestParsePositions(t *testing.T) {
	src := "http {\n    server {\n        listen 80 \"default_server\";\n    }\n}\n"
	cfg := mustParse(t, src)
	http := cfg.Directives[0]
	server := http.Block[0]
	listen := server.Block[0]
	checks := []struct {
		what string
		got  Pos
		want string
	}{
		{"http", http.Pos, "t.conf:1:1"},
		{"http end", http.End, "t.conf:5:1"},
		{"server", server.Pos, "t.conf:2:5"},
		{"server end", server.End, "t.conf:4:5"},
		{"listen", listen.Pos, "t.conf:3:9"},
		{"listen end", listen.End, "t.conf:3:35"},
		{"arg 0", listen.ArgPos[0], "t.conf:3:16"},
		{"arg 1", listen.ArgPos[1], "t.conf:3:19"},
	}
	for _, c := range checks {
		if c.got.String() != c.want {
			t.Errorf("%s at %s, want %s", c.what, c.got, c.want)
		}
	}
	if string(listen.Quoted) != "\x00\"" {
		t.Errorf("Quoted = %q", listen.Quoted)
	}
	if !http.HasBlock || listen.HasBlock {
		t.Error("HasBlock wrong")
	}
}

func TestMaxDepth(t *testing.T) {
	deep := strings.Repeat("a {\n", 5) + "x;\n" + strings.Repeat("}\n", 5) + "after;"
	cfg, err := ParseString("t.conf", deep, Options{MaxDepth: 3})
	assertErrors(t, err, `t.conf:4:3: blocks are nested more than 3 levels deep; check for a "{" without a matching "}"`)
	assertTree(t, cfg.Directives, []node{b("a", nil, b("a", nil, b("a", nil, b("a", nil)))), d("after")})

	// The default limit holds even against absurd nesting, without
	// recursion running away.
	huge := strings.Repeat("a{", 100000)
	_, err = ParseString("t.conf", huge, Options{})
	if err == nil || !strings.Contains(err.Error(), "nested more than 64 levels deep") {
		t.Errorf("got %v", err)
	}
}

func TestTooManyErrors(t *testing.T) {
	_, err := ParseString("t.conf", strings.Repeat(";", 500), Options{})
	list := err.(ErrorList)
	if len(list) != maxErrors+1 || list[maxErrors].Msg != "too many errors; fix the ones above first" {
		t.Errorf("got %d errors, last %q", len(list), list[len(list)-1].Msg)
	}
}

func TestSeedConfig(t *testing.T) {
	cfg, err := ParseFile("testdata/seed.conf", Options{})
	assertErrors(t, err,
		`testdata/seed.conf:11:29: missing ";" after "server 10.0.0.1:8080": every directive ends with ";"`,
		`testdata/seed.conf:12:29: missing ";" after "server 10.0.0.2:8080": every directive ends with ";"`,
		`testdata/seed.conf:19:9: "//" does not start a comment in nginx configuration; use "#"`,
	)
	assertTree(t, cfg.Directives, []node{
		d("user", "nginx"),
		d("worker_processes", "auto"),
		b("events", nil, d("worker_connections", "1024")),
		b("http", nil,
			b("upstream", args("momo_server"), d("server", "10.0.0.1:8080"), d("server", "10.0.0.2:8080")),
			b("server", nil,
				d("listen", "443", "ssl"),
				d("server_name", "momo.example.kr", "모모.한국"),
				d("ssl_certificate", "/etc/nginx/ssl/모모.crt"),
				d("ssl_certificate_key", "/etc/nginx/ssl/모모.key"),
				b("location", args("/"),
					d("proxy_pass", "http://momo_server"),
					d("add_header", "X-Greeting", "안녕하세요, 모모입니다"),
				),
			),
		),
	})
	ssl := cfg.Directives[3].Block[1].Block[2]
	if ssl.Pos.String() != "testdata/seed.conf:20:9" {
		t.Errorf("ssl_certificate at %s", ssl.Pos)
	}
	if len(cfg.Files) != 1 || cfg.Files[0].Path != "testdata/seed.conf" {
		t.Errorf("files %v", cfg.Files)
	}
}

func TestParseFileMissing(t *testing.T) {
	cfg, err := ParseFile("testdata/nope.conf", Options{})
	assertErrors(t, err, `testdata/nope.conf: cannot open configuration file: no such file or directory`)
	if cfg == nil {
		t.Error("nil config")
	}
	_, err = ParseFile("testdata", Options{})
	assertErrors(t, err, `testdata: cannot open configuration file: is a directory`)
}

func TestErrorTypes(t *testing.T) {
	if ErrorList(nil).Err() != nil {
		t.Error("empty list is not nil")
	}
	_, err := ParseString("command line", "a", Options{})
	var list ErrorList
	if !errors.As(err, &list) || len(list) != 1 {
		t.Fatalf("got %T %v", err, err)
	}
	if got := list[0].Pos; got != (Pos{File: "command line", Line: 1, Col: 2}) {
		t.Errorf("pos %+v", got)
	}
	two := ErrorList{{Pos: Pos{File: "a", Line: 1, Col: 2}, Msg: "x"}, {Msg: "y"}}
	if two.Error() != "a:1:2: x\ny" {
		t.Errorf("%q", two.Error())
	}
}

func TestPosString(t *testing.T) {
	tests := []struct {
		p    Pos
		want string
	}{
		{Pos{"f", 1, 2}, "f:1:2"},
		{Pos{"f", 3, 0}, "f:3"},
		{Pos{"f", 0, 0}, "f"},
		{Pos{"", 1, 2}, "1:2"},
		{Pos{}, ""},
	}
	for _, tt := range tests {
		if got := tt.p.String(); got != tt.want {
			t.Errorf("%+v: %q, want %q", tt.p, got, tt.want)
		}
	}
}

// TestPathologicalInputs makes sure large hostile inputs finish in linear
// time; a quadratic path would make this test take minutes.
func TestPathologicalInputs(t *testing.T) {
	const n = 1 << 16
	inputs := map[string]string{
		"slash lines joined by backslashes": strings.Repeat("//\\\n", n),
		"unterminated quote":                "a \"" + strings.Repeat("x", 4*n),
		"open braces":                       strings.Repeat("a {", n),
		"close braces":                      strings.Repeat("}", n),
		"semicolons":                        strings.Repeat(";", n),
		"lines without semicolons":          strings.Repeat("a b\n", n) + "}",
		"quotes glued together":             strings.Repeat(`"a"`, n),
		"dollar braces":                     "a $" + strings.Repeat("{", 4*n) + ";",
		"backslashes":                       "a " + strings.Repeat(`\`, 4*n+1),
	}
	for name, src := range inputs {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			cfg, _ := ParseString("t.conf", src, Options{})
			if cfg == nil {
				t.Fatal("nil config")
			}
			var sb strings.Builder
			if err := Print(&sb, cfg.Directives); err != nil {
				t.Fatal(err)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

func TestSplitLines(t *testing.T) {
	cfg := mustParse(t, "proxy_pass http://a\n    proxy_set_header Host \"$host\";\nlisten 80\nlocation / {\n    root /srv;\n}\nuser a;")
	tests := []struct {
		d    *Directive
		want []node
	}{
		{cfg.Directives[0], []node{d("proxy_pass", "http://a"), d("proxy_set_header", "Host", "$host")}},
		{cfg.Directives[1], []node{d("listen", "80"), b("location", args("/"), d("root", "/srv"))}},
		{cfg.Directives[2], []node{d("user", "a")}},
	}
	for _, tt := range tests {
		pieces := tt.d.SplitLines()
		assertTree(t, pieces, tt.want)
		last := pieces[len(pieces)-1]
		if last.End != tt.d.End {
			t.Errorf("last piece ends at %s, want %s", last.End, tt.d.End)
		}
	}
	second := cfg.Directives[0].SplitLines()[1]
	if second.Pos.String() != "t.conf:2:5" || second.Quoted[1] != '"' || second.ArgPos[1].String() != "t.conf:2:27" {
		t.Errorf("second piece %+v", second)
	}
}
