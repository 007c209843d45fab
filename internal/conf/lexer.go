package conf

import (
	"fmt"
	"unicode/utf8"
)

type tokKind int

const (
	tokWord tokKind = iota
	tokSemi
	tokLBrace
	tokRBrace
	tokEOF
	// tokSlashComment is a line that starts a directive with "//". It is
	// an error, but it is recognised here so the rest of the line can be
	// skipped in one pass, whatever backslashes or quotes it holds.
	tokSlashComment
)

// token is one lexical item. For words, val is the value after nginx's escape
// processing and quote is how it was written.
type token struct {
	kind   tokKind
	val    string
	quote  byte
	pos    Pos // first byte (the opening quote for a quoted word)
	end    Pos // just after the last byte
	off    int // byte offsets of the token in the source, for messages
	endOff int
	// firstOnLine is set when only whitespace precedes the token on its
	// line; indentation hints only trust such braces.
	firstOnLine bool
	// synthetic marks a ";" the lexer invented to recover from `"x"}`.
	synthetic bool
	// tainted marks an EOF reached inside an unterminated quote: whatever
	// the parser would report about it is a consequence of that one error.
	tainted bool
}

// lexer splits one file into tokens with the same rules as
// ngx_conf_read_token, but recovers from errors instead of stopping.
type lexer struct {
	file string
	src  []byte
	off  int
	line int
	col  int
	// lineStart is true until a non-blank byte is seen on the current line.
	lineStart bool
	// pending holds tokens queued by error recovery.
	pending []token
	// nameNext is set by the parser when the next word would be a
	// directive name, the only place a "//" line is taken for a comment.
	nameNext bool
	tainted  bool
	errf     func(Pos, string)
}

func newLexer(file string, src []byte, errf func(Pos, string)) *lexer {
	return &lexer{file: file, src: src, line: 1, col: 1, lineStart: true, errf: errf}
}

func (lx *lexer) pos() Pos { return Pos{File: lx.file, Line: lx.line, Col: lx.col} }

// advance consumes one byte, keeping line and column. Lines are counted on
// LF only, as nginx does; CR is just whitespace.
func (lx *lexer) advance() {
	if lx.src[lx.off] == '\n' {
		lx.line++
		lx.col = 1
		lx.lineStart = true
	} else {
		lx.col++
	}
	lx.off++
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// next returns the next token; at the end it keeps returning tokEOF.
func (lx *lexer) next() token {
	if len(lx.pending) > 0 {
		t := lx.pending[0]
		lx.pending = lx.pending[1:]
		return t
	}
	for lx.off < len(lx.src) {
		c := lx.src[lx.off]
		if isSpace(c) {
			lx.advance()
			continue
		}
		if c == '#' {
			lx.skipLine()
			continue
		}
		break
	}
	first := lx.lineStart
	lx.lineStart = false
	start, off := lx.pos(), lx.off
	if lx.off >= len(lx.src) {
		return token{kind: tokEOF, pos: start, end: start, off: off, endOff: off, tainted: lx.tainted}
	}
	var t token
	switch c := lx.src[lx.off]; c {
	case ';':
		lx.advance()
		t.kind = tokSemi
	case '{':
		lx.advance()
		t.kind = tokLBrace
	case '}':
		lx.advance()
		t.kind = tokRBrace
	case '"', '\'':
		t = lx.quoted(c)
	case '/':
		if lx.nameNext && lx.off+1 < len(lx.src) && lx.src[lx.off+1] == '/' {
			lx.skipLine()
			t.kind = tokSlashComment
			break
		}
		t = lx.bare()
	default:
		t = lx.bare()
	}
	t.pos, t.off, t.firstOnLine = start, off, first
	t.end, t.endOff = lx.pos(), lx.off
	// A quoted word may have crossed a newline; the next token still
	// shares a line with this one.
	lx.lineStart = false
	return t
}

// skipLine drops everything up to (not including) the next LF.
func (lx *lexer) skipLine() {
	for lx.off < len(lx.src) && lx.src[lx.off] != '\n' {
		lx.advance()
	}
}

// bare scans an unquoted word. It ends before whitespace, ";" or "{"; a "}"
// or a quote inside it is an ordinary byte, and a "{" right after "$" is
// part of a ${variable}, exactly as in nginx.
func (lx *lexer) bare() token {
	start := lx.off
	variable := false
	for lx.off < len(lx.src) {
		c := lx.src[lx.off]
		if c == '{' && variable {
			lx.advance()
			continue
		}
		variable = false
		switch {
		case c == '\\':
			lx.advance()
			if lx.off < len(lx.src) {
				lx.advance()
			}
			continue
		case c == '$':
			variable = true
		case isSpace(c) || c == ';' || c == '{':
			return token{kind: tokWord, val: unescape(lx.src[start:lx.off])}
		}
		lx.advance()
	}
	return token{kind: tokWord, val: unescape(lx.src[start:lx.off])}
}

// quoted scans a quoted word and checks what follows the closing quote:
// nginx accepts only whitespace, ";", "{" or ")" there.
func (lx *lexer) quoted(q byte) token {
	open := lx.pos()
	lx.advance()
	start := lx.off
	for lx.off < len(lx.src) {
		c := lx.src[lx.off]
		if c == '\\' {
			lx.advance()
			if lx.off < len(lx.src) {
				lx.advance()
			}
			continue
		}
		if c == q {
			val := unescape(lx.src[start:lx.off])
			lx.advance()
			lx.afterQuote(open, q)
			return token{kind: tokWord, val: val, quote: q}
		}
		lx.advance()
	}
	lx.errf(open, fmt.Sprintf("unexpected end of file inside a quoted value that starts here; add the closing %s", quoteName(q)))
	lx.tainted = true
	return token{kind: tokWord, val: unescape(lx.src[start:lx.off]), quote: q}
}

func quoteName(q byte) string {
	if q == '"' {
		return "double quote"
	}
	return "single quote"
}

func (lx *lexer) afterQuote(open Pos, q byte) {
	if lx.off >= len(lx.src) {
		return
	}
	c := lx.src[lx.off]
	if isSpace(c) || c == ';' || c == '{' || c == ')' {
		return
	}
	ch := string(c)
	if r, n := utf8.DecodeRune(lx.src[lx.off:]); r != utf8.RuneError {
		ch = string(lx.src[lx.off : lx.off+n])
	}
	at := lx.pos()
	var msg string
	switch c {
	case '}':
		msg = `unexpected "}" after closing quote: end the directive with ";" before "}"`
		// Recover as if the ";" were there, so the "}" closes the block
		// and no second error is reported for the same slip.
		lx.pending = append(lx.pending, token{kind: tokSemi, pos: at, end: at, off: lx.off, endOff: lx.off, synthetic: true})
	case '#':
		msg = `unexpected "#" after closing quote: put a space before "#" to start a comment`
	default:
		msg = fmt.Sprintf(`unexpected %q after closing quote: separate values with a space, or write a quote inside a quoted value as \%c`, ch, q)
	}
	if open.Line != at.Line {
		msg += fmt.Sprintf("; the quoted value started at line %d, so its closing quote may be missing there", open.Line)
	}
	lx.errf(at, msg)
	// Otherwise carry on as if a space separated the two tokens.
}

// unescape applies nginx's escape rules: \" \' \\ become the character,
// \t \r \n become control characters, and any other \x stays as two bytes
// so regexes such as \.php$ survive.
func unescape(raw []byte) string {
	dst := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); i++ {
		if raw[i] == '\\' && i+1 < len(raw) {
			switch raw[i+1] {
			case '"', '\'', '\\':
				i++
			case 't':
				dst = append(dst, '\t')
				i++
				continue
			case 'r':
				dst = append(dst, '\r')
				i++
				continue
			case 'n':
				dst = append(dst, '\n')
				i++
				continue
			}
		}
		dst = append(dst, raw[i])
	}
	return string(dst)
}
