package conf

import (
	"reflect"
	"testing"
)

// lexAll renders every token of src: words as their value in brackets, with
// the quote character in front when quoted.
func lexAll(t *testing.T, src string) (toks []string, errs []string) {
	t.Helper()
	lx := newLexer("t.conf", []byte(src), func(p Pos, msg string) {
		errs = append(errs, p.String()+": "+msg)
	})
	for i := 0; i < 10000; i++ {
		tk := lx.next()
		switch tk.kind {
		case tokEOF:
			return toks, errs
		case tokSemi:
			toks = append(toks, ";")
		case tokLBrace:
			toks = append(toks, "{")
		case tokRBrace:
			toks = append(toks, "}")
		case tokWord:
			s := "[" + tk.val + "]"
			if tk.quote != 0 {
				s = string(tk.quote) + s
			}
			toks = append(toks, s)
		}
	}
	t.Fatal("lexer does not reach EOF")
	return nil, nil
}

func TestLexWords(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"simple", "listen 80;", []string{"[listen]", "[80]", ";"}},
		{"block", "http{server {}}", []string{"[http]", "{", "[server]", "{", "}", "}"}},
		{"double quoted", `a "b c";`, []string{"[a]", `"[b c]`, ";"}},
		{"single quoted", `a 'b "c"';`, []string{"[a]", `'[b "c"]`, ";"}},
		{"empty quoted", `a "" '';`, []string{"[a]", `"[]`, `'[]`, ";"}},
		{"escaped quotes", `a "x\"y" 'p\'q';`, []string{"[a]", `"[x"y]`, `'[p'q]`, ";"}},
		{"escaped backslash", `a "x\\y" x\\y;`, []string{"[a]", `"[x\y]`, `[x\y]`, ";"}},
		{"control escapes", `a "\t\r\n" \t;`, []string{"[a]", "\"[\t\r\n]", "[\t]", ";"}},
		{"other escapes stay two bytes", `location ~ \.php$ {`, []string{"[location]", "[~]", `[\.php$]`, "{"}},
		{"escaped space joins a word", `a b\ c;`, []string{"[a]", `[b\ c]`, ";"}},
		{"escaped semicolon", `a b\;c;`, []string{"[a]", `[b\;c]`, ";"}},
		{"variable braces", `set $a ${b}c;`, []string{"[set]", "[$a]", "[${b}c]", ";"}},
		{"variable braces at word start", `return ${scheme}://${host};`, []string{"[return]", "[${scheme}://${host}]", ";"}},
		{"brace after plain text opens block", `a b{c;}`, []string{"[a]", "[b]", "{", "[c]", ";", "}"}},
		{"brace after variable name opens block", `map $a{}`, []string{"[map]", "[$a]", "{", "}"}},
		{"closing brace inside word is text", `a b}c;`, []string{"[a]", "[b}c]", ";"}},
		{"hash inside word is text", `a b#c;`, []string{"[a]", "[b#c]", ";"}},
		{"comment", "a # b;\nc;", []string{"[a]", "[c]", ";"}},
		{"comment at end", "a; # b", []string{"[a]", ";"}},
		{"quote inside word is text", `a b"c d";`, []string{"[a]", `[b"c]`, `[d"]`, ";"}},
		{"paren after quote", `if ($a = "b") {`, []string{"[if]", "[($a]", "[=]", `"[b]`, "[)]", "{"}},
		{"quote then semicolon", `a "b";`, []string{"[a]", `"[b]`, ";"}},
		{"quote then brace", `a "b"{}`, []string{"[a]", `"[b]`, "{", "}"}},
		{"newline in quotes", "a \"b\nc\";", []string{"[a]", "\"[b\nc]", ";"}},
		{"crlf", "a b;\r\nc;\r\n", []string{"[a]", "[b]", ";", "[c]", ";"}},
		{"utf-8", `server_name 모모.한국 "안녕";`, []string{"[server_name]", "[모모.한국]", `"[안녕]`, ";"}},
		{"invalid utf-8 passes through", "a \xff\xfe;", []string{"[a]", "[\xff\xfe]", ";"}},
		{"long token", "a " + string(make([]byte, 0)) + longWord + ";", []string{"[a]", "[" + longWord + "]", ";"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, errs := lexAll(t, tt.src)
			if len(errs) > 0 {
				t.Errorf("unexpected errors: %q", errs)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("lex(%q)\n got %q\nwant %q", tt.src, got, tt.want)
			}
		})
	}
}

var longWord = func() string {
	b := make([]byte, 1<<20)
	for i := range b {
		b[i] = 'x'
	}
	return string(b)
}()

func TestLexErrors(t *testing.T) {
	tests := []struct {
		name     string
		src      string
		wantToks []string
		wantErrs []string
	}{
		{
			"text after closing quote", `a "b"c;`,
			[]string{"[a]", `"[b]`, "[c]", ";"},
			[]string{`t.conf:1:6: unexpected "c" after closing quote: separate values with a space, or write a quote inside a quoted value as \"`},
		},
		{
			"inner quote not escaped", `add_header X 'it's';`,
			[]string{"[add_header]", "[X]", `'[it]`, "[s']", ";"},
			[]string{`t.conf:1:18: unexpected "s" after closing quote: separate values with a space, or write a quote inside a quoted value as \'`},
		},
		{
			"brace after closing quote", `return 200 "x"}`,
			[]string{"[return]", "[200]", `"[x]`, ";", "}"},
			[]string{`t.conf:1:15: unexpected "}" after closing quote: end the directive with ";" before "}"`},
		},
		{
			"hash after closing quote", "a \"b\"#c\nd;",
			[]string{"[a]", `"[b]`, "[d]", ";"},
			[]string{`t.conf:1:6: unexpected "#" after closing quote: put a space before "#" to start a comment`},
		},
		{
			"utf-8 after closing quote", `a "b"값;`,
			[]string{"[a]", `"[b]`, "[값]", ";"},
			[]string{`t.conf:1:6: unexpected "값" after closing quote: separate values with a space, or write a quote inside a quoted value as \"`},
		},
		{
			"unterminated quote", "a \"b;\nc;\n",
			[]string{"[a]", "\"[b;\nc;\n]"},
			[]string{`t.conf:1:3: unexpected end of file inside a quoted value that starts here; add the closing double quote`},
		},
		{
			"runaway quote closes on a later line", "return 200 \"ok;\nlocation / {\n    return 200 \"x\";\n}\n",
			[]string{"[return]", "[200]", "\"[ok;\nlocation / {\n    return 200 ]", "[x\"]", ";", "}"},
			[]string{`t.conf:3:17: unexpected "x" after closing quote: separate values with a space, or write a quote inside a quoted value as \"; the quoted value started at line 1, so its closing quote may be missing there`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, errs := lexAll(t, tt.src)
			if !reflect.DeepEqual(errs, tt.wantErrs) {
				t.Errorf("errors\n got %q\nwant %q", errs, tt.wantErrs)
			}
			if !reflect.DeepEqual(got, tt.wantToks) {
				t.Errorf("tokens\n got %q\nwant %q", got, tt.wantToks)
			}
		})
	}
}

func TestLexPositions(t *testing.T) {
	src := "http {\n\tlisten  \"a b\";\n}\n"
	lx := newLexer("f", []byte(src), func(Pos, string) { t.Error("unexpected error") })
	want := []struct{ pos, end string }{
		{"f:1:1", "f:1:5"},   // http
		{"f:1:6", "f:1:7"},   // {
		{"f:2:2", "f:2:8"},   // listen
		{"f:2:10", "f:2:15"}, // "a b"
		{"f:2:15", "f:2:16"}, // ;
		{"f:3:1", "f:3:2"},   // }
		{"f:4:1", "f:4:1"},   // EOF
	}
	for i, w := range want {
		tk := lx.next()
		if tk.pos.String() != w.pos || tk.end.String() != w.end {
			t.Errorf("token %d: pos %s end %s, want %s %s", i, tk.pos, tk.end, w.pos, w.end)
		}
	}
}

func TestUnescape(t *testing.T) {
	tests := map[string]string{
		``:          ``,
		`plain`:     `plain`,
		`\"\'\\`:    `"'\`,
		`\t\r\n`:    "\t\r\n",
		`\.\d\$\x`:  `\.\d\$\x`,
		`\\n`:       `\n`,
		`\\\n`:      "\\\n",
		`trailing\`: `trailing\`,
	}
	for in, want := range tests {
		if got := unescape([]byte(in)); got != want {
			t.Errorf("unescape(%q) = %q, want %q", in, got, want)
		}
	}
}
