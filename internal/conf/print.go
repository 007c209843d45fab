package conf

import (
	"bufio"
	"io"
	"strings"
)

// Print writes dirs as canonical text: one directive per line, blocks
// indented by four spaces, "{}" for an empty block, no comments. Arguments
// keep their original quoting where it can express the value and are quoted
// with '"' where it cannot, so parsing the output gives back the same names,
// arguments and blocks.
func Print(w io.Writer, dirs []*Directive) error {
	bw := bufio.NewWriter(w)
	printBlock(bw, dirs, 0)
	return bw.Flush() // bufio keeps the first write error
}

func printBlock(w *bufio.Writer, dirs []*Directive, level int) {
	indent := strings.Repeat("    ", level)
	for _, d := range dirs {
		w.WriteString(indent)
		w.WriteString(formatWord(d.Name, 0, true))
		for i, a := range d.Args {
			var q byte
			if i < len(d.Quoted) {
				q = d.Quoted[i]
			}
			w.WriteByte(' ')
			w.WriteString(formatWord(a, q, false))
		}
		switch {
		case len(d.Block) > 0:
			w.WriteString(" {\n")
			printBlock(w, d.Block, level+1)
			w.WriteString(indent)
			w.WriteString("}\n")
		case d.HasBlock:
			w.WriteString(" {}\n")
		default:
			w.WriteString(";\n")
		}
	}
}

// formatWord writes v so that the lexer reads it back as v. It prefers the
// way v was written (quote), then no quotes, then double quotes.
func formatWord(v string, quote byte, isName bool) string {
	if quote != '"' && quote != '\'' {
		if s := bareWord(v); s != "" && (!isName || !nameLooksSpecial(s)) && lexesAs(s, v) {
			return s
		}
		quote = '"'
	}
	return quotedWord(v, quote)
}

// nameLooksSpecial reports whether a bare name would be read as something
// else at the start of a directive (a "//" line) or of a file (a byte order
// mark).
func nameLooksSpecial(s string) bool {
	return strings.HasPrefix(s, "//") || strings.HasPrefix(s, "\xEF\xBB\xBF")
}

// plainAfterBackslash reports whether a "\" at v[i] may be written alone:
// only if the next byte is written as itself and does not form one of
// nginx's escapes with it, so the pair is kept as two bytes on reading.
func plainAfterBackslash(v string, i int) bool {
	if i+1 >= len(v) {
		return false
	}
	switch v[i+1] {
	case '"', '\'', '\\', 't', 'r', 'n', '\t', '\r', '\n':
		return false
	}
	return true
}

func escapeTo(b *strings.Builder, v string, i int) bool {
	switch c := v[i]; c {
	case '\\':
		if plainAfterBackslash(v, i) {
			b.WriteByte('\\')
		} else {
			b.WriteString(`\\`)
		}
	case '\t':
		b.WriteString(`\t`)
	case '\r':
		b.WriteString(`\r`)
	case '\n':
		b.WriteString(`\n`)
	default:
		return false
	}
	return true
}

// bareWord is a candidate unquoted spelling of v; lexesAs decides whether
// it works (spaces, ";", a leading "#" and the like rule it out).
func bareWord(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if escapeTo(&b, v, i) {
			continue
		}
		if i == 0 && (v[0] == '"' || v[0] == '\'') {
			b.WriteByte('\\')
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

func quotedWord(v string, q byte) string {
	var b strings.Builder
	b.Grow(len(v) + 2)
	b.WriteByte(q)
	for i := 0; i < len(v); i++ {
		if escapeTo(&b, v, i) {
			continue
		}
		if v[i] == q {
			b.WriteByte('\\')
		}
		b.WriteByte(v[i])
	}
	b.WriteByte(q)
	return b.String()
}

// lexesAs reports whether s reads back as exactly one word equal to v.
func lexesAs(s, v string) bool {
	ok := true
	lx := newLexer("", []byte(s), func(Pos, string) { ok = false })
	t := lx.next()
	return t.kind == tokWord && t.val == v && lx.next().kind == tokEOF && ok
}
