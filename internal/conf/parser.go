package conf

import (
	"fmt"
	"path/filepath"
	"strings"
	"unicode/utf8"
)

// Directive is one statement: a name, its arguments, and an optional block.
// An "include" never appears in a parsed tree; the directives of the
// included files stand in its place.
type Directive struct {
	Name     string
	Args     []string // values after escape processing, quotes removed
	ArgPos   []Pos    // position of each argument
	Quoted   []byte   // per argument: 0, '"' or '\'', how it was written
	HasBlock bool     // the directive had a { } block, possibly empty
	Block    []*Directive
	Pos      Pos // position of the name
	// End is the position of the terminating ";" or closing "}". For a
	// directive recovered from a missing ";" it is where the ";" belongs;
	// for a block cut off by the end of the file, that end.
	End Pos
}

// SplitLines splits d at line breaks between its words, the way the parser
// recovers from a forgotten ";": each piece holds the words that start on
// one line, and the last piece keeps the block. nginx accepts a directive
// spread over lines, so the parser cannot call that an error; the directive
// table can, when d has the wrong number of arguments or an unexpected
// block, and suggest a ";" after the first piece. The End of every piece but
// the last is the position of its last word.
func (d *Directive) SplitLines() []*Directive {
	var out []*Directive
	cur := &Directive{Name: d.Name, Pos: d.Pos, End: d.Pos}
	line := d.Pos.Line
	for i, a := range d.Args {
		var p Pos
		var q byte
		if i < len(d.ArgPos) {
			p = d.ArgPos[i]
		}
		if i < len(d.Quoted) {
			q = d.Quoted[i]
		}
		if p.Line > line {
			out = append(out, cur)
			cur = &Directive{Name: a, Pos: p, End: p}
		} else {
			cur.Args = append(cur.Args, a)
			cur.ArgPos = append(cur.ArgPos, p)
			cur.Quoted = append(cur.Quoted, q)
			cur.End = p
		}
		line = p.Line
	}
	cur.HasBlock, cur.Block, cur.End = d.HasBlock, d.Block, d.End
	return append(out, cur)
}

// File is one file that was read, with its bytes exactly as read.
type File struct {
	Path string
	Data []byte
}

// Config is the result of parsing a main file and everything it includes.
type Config struct {
	File       string       // main file path as given
	Files      []File       // every file read, in first-read order, each once; main first
	Directives []*Directive // main context, includes already spliced in
}

// Options tune a parse. The zero value is ready to use.
type Options struct {
	// ConfDir is where relative include paths resolve. As in nginx it is
	// the directory of the main configuration file, not of the file that
	// holds the include. Default: filepath.Dir(main file) for ParseFile and
	// the current directory for ParseString.
	ConfDir string
	// MaxDepth limits block nesting, counted across included files.
	// Default 64.
	MaxDepth int
	// MaxIncludeDepth limits how deeply includes may nest, as a backstop to
	// loop detection (a symlink farm can make every path look new).
	// Default 32.
	MaxIncludeDepth int
}

const (
	defaultMaxDepth        = 64
	defaultMaxIncludeDepth = 32
	// maxIncludedFiles bounds the total number of include expansions, so
	// files that include each other many times over cannot multiply
	// without end.
	maxIncludedFiles = 1 << 16
	// maxErrors stops a binary or badly broken file from producing an
	// error per byte.
	maxErrors = 100
)

// ParseFile reads and parses the main configuration file at path and every
// file it includes. On errors it still returns the tree it could build after
// recovering, together with an ErrorList, so callers can report semantic
// problems in the same run.
func ParseFile(path string, opts Options) (*Config, error) {
	if opts.ConfDir == "" {
		opts.ConfDir = filepath.Dir(path)
	}
	return parse(path, nil, false, opts, osFS{})
}

// ParseString parses src as if it were a file called name; it serves the
// "-g" command line option and tests. The text is recorded in Config.Files
// under name. Includes are expanded as in ParseFile. Whether blocks are
// acceptable in the text is for the caller to decide (nginx refuses them in
// -g).
func ParseString(name string, src string, opts Options) (*Config, error) {
	if opts.ConfDir == "" {
		opts.ConfDir = "."
	}
	return parse(name, []byte(src), true, opts, osFS{})
}

func parse(name string, src []byte, fromString bool, opts Options, fsys fileSystem) (*Config, error) {
	if opts.MaxDepth <= 0 {
		opts.MaxDepth = defaultMaxDepth
	}
	if opts.MaxIncludeDepth <= 0 {
		opts.MaxIncludeDepth = defaultMaxIncludeDepth
	}
	p := &parser{opts: opts, fsys: fsys, cache: map[string]cachedFile{}, recorded: map[string]bool{}}
	cfg := &Config{File: name}
	id := "\x00string:" + name // cannot collide with a real path
	if fromString {
		p.record(id, name, src)
	} else {
		f := p.read(name)
		if f.err != nil {
			p.errorf(Pos{File: name}, "cannot open configuration file: %s", reason(f.err))
			return cfg, p.errs.Err()
		}
		src, id = f.data, f.id
	}
	p.stack = []includeFrame{{id: id, path: name}}
	cfg.Directives = p.parseFile(name, src, 0)
	cfg.Files = p.files
	return cfg, p.errs.Err()
}

type parser struct {
	opts     Options
	fsys     fileSystem
	errs     ErrorList
	files    []File
	recorded map[string]bool
	cache    map[string]cachedFile
	stack    []includeFrame // files being parsed, outermost first
	includes int
}

// fileState is what the parser tracks within one file; blocks never span
// files, as in nginx.
type fileState struct {
	lx   *lexer
	open []*Directive // open blocks, innermost last
	// early and late remember the first "}" indented deeper or shallower
	// than the directive whose block it closes; they point at the likely
	// extra or missing brace when the counts do not add up.
	early, late *braceMismatch
	lastSemi    *Directive // set while the previous token was a ";"
	lastSemiTok token
}

type braceMismatch struct {
	closer Pos
	block  *Directive
	outer  *Directive // an enclosing block whose column the "}" matches
}

func (p *parser) errorf(pos Pos, format string, args ...any) {
	switch {
	case len(p.errs) < maxErrors:
		p.errs = append(p.errs, &Error{Pos: pos, Msg: fmt.Sprintf(format, args...)})
	case len(p.errs) == maxErrors:
		p.errs = append(p.errs, &Error{Pos: pos, Msg: "too many errors; fix the ones above first"})
	}
}

func (p *parser) parseFile(name string, src []byte, depth int) []*Directive {
	st := &fileState{lx: newLexer(name, src, func(pos Pos, msg string) { p.errorf(pos, "%s", msg) })}
	if len(src) >= 3 && src[0] == 0xEF && src[1] == 0xBB && src[2] == 0xBF {
		// nginx would read the mark as part of the first directive name.
		p.errorf(Pos{File: name, Line: 1, Col: 1}, "file starts with a UTF-8 byte order mark, which nginx reads as part of the first directive; save the file as UTF-8 without BOM")
		st.lx.off, st.lx.col = 3, 4
	}
	dirs, _ := p.parseBlock(st, depth, nil)
	return dirs
}

// parseBlock reads directives up to the "}" closing parent (or EOF when
// parent is nil) and returns them with the token that stopped it.
func (p *parser) parseBlock(st *fileState, depth int, parent *Directive) ([]*Directive, token) {
	var out []*Directive
	var words []token
	for {
		st.lx.nameNext = len(words) == 0
		t := st.lx.next()
		prevSemi, prevSemiTok := st.lastSemi, st.lastSemiTok
		st.lastSemi = nil
		switch t.kind {
		case tokSlashComment:
			p.errorf(t.pos, `"//" does not start a comment in nginx configuration; use "#"`)

		case tokWord:
			words = append(words, t)

		case tokSemi:
			if len(words) == 0 {
				if !t.synthetic {
					p.errorf(t.pos, `unexpected ";": there is no directive before it; remove the extra ";"`)
				}
				continue
			}
			d := newDirective(words)
			d.End = t.pos
			words = nil
			out = p.add(out, d, depth)
			st.lastSemi, st.lastSemiTok = d, t

		case tokLBrace:
			if len(words) == 0 {
				if prevSemi != nil {
					p.errorf(t.pos, `unexpected "{": the directive %q before it already ended with ";" at %s; remove that ";" to give it this block`,
						prevSemi.Name, prevSemiTok.pos)
				} else {
					p.errorf(t.pos, `unexpected "{": a block must follow a directive name, as in "server {"`)
				}
				// Read the block for the errors inside it, then drop it.
				p.block(st, &Directive{Pos: t.pos, HasBlock: true}, t, depth, true)
				continue
			}
			d := newDirective(words)
			d.HasBlock = true
			words = nil
			p.block(st, d, t, depth, false)
			out = p.add(out, d, depth)

		case tokRBrace:
			if len(words) > 0 {
				out = p.unterminated(st, out, words, t, depth)
				words = nil
			}
			if parent != nil {
				return out, t
			}
			msg := `unexpected "}": no block is open here; remove it or look for an extra "}" above`
			if m := st.early; m != nil {
				msg += fmt.Sprintf(`; the "}" at line %d closes %q from line %d but is indented deeper, so it may be the extra one`,
					m.closer.Line, m.block.Name, m.block.Pos.Line)
			}
			p.errorf(t.pos, "%s", msg)

		case tokEOF:
			if len(words) > 0 && !t.tainted {
				out = p.unterminated(st, out, words, t, depth)
			}
			return out, t
		}
	}
}

// block reads the block of d whose "{" is lbrace. anon marks a "{" that had
// no directive name.
func (p *parser) block(st *fileState, d *Directive, lbrace token, depth int, anon bool) {
	if depth+1 > p.opts.MaxDepth {
		p.errorf(lbrace.pos, `blocks are nested more than %d levels deep; check for a "{" without a matching "}"`, p.opts.MaxDepth)
		d.End = skipBlock(st.lx)
		return
	}
	st.open = append(st.open, d)
	children, closer := p.parseBlock(st, depth+1, d)
	st.open = st.open[:len(st.open)-1]
	d.Block = children
	d.End = closer.pos
	if closer.kind == tokRBrace {
		st.noteIndent(d, closer, anon)
		return
	}
	if closer.tainted {
		return
	}
	what := fmt.Sprintf("block %q", d.Name)
	if anon {
		what = "block"
	}
	msg := fmt.Sprintf(`unexpected end of file, expecting "}": %s opened here is never closed; add the missing "}"`, what)
	if m := st.late; m != nil {
		if m.outer != nil {
			msg += fmt.Sprintf(`; the "}" at line %d is indented like the end of %q (line %d) but closes %q from line %d, so %q is probably the block missing its "}"`,
				m.closer.Line, m.outer.Name, m.outer.Pos.Line, m.block.Name, m.block.Pos.Line, m.block.Name)
		} else {
			msg += fmt.Sprintf(`; the "}" at line %d closes %q from line %d but is indented less, so a "}" may be missing before it`,
				m.closer.Line, m.block.Name, m.block.Pos.Line)
		}
	}
	p.errorf(d.Pos, "%s", msg)
}

// noteIndent records the first closing brace whose column disagrees with
// its directive. Only braces alone at the start of their line count, and
// one-line blocks such as "events {}" are ignored.
func (st *fileState) noteIndent(d *Directive, closer token, anon bool) {
	if anon || !closer.firstOnLine || closer.pos.Line == d.Pos.Line || closer.pos.Col == d.Pos.Col {
		return
	}
	m := &braceMismatch{closer: closer.pos, block: d}
	if closer.pos.Col > d.Pos.Col {
		if st.early == nil {
			st.early = m
		}
		return
	}
	if st.late != nil {
		return
	}
	for i := len(st.open) - 1; i >= 0; i-- {
		if st.open[i].Pos.Col == closer.pos.Col {
			m.outer = st.open[i]
			break
		}
	}
	st.late = m
}

// skipBlock consumes tokens up to the "}" matching an already read "{",
// without recursion, and returns the position where it stopped.
func skipBlock(lx *lexer) Pos {
	lx.nameNext = false
	level := 1
	for {
		t := lx.next()
		switch t.kind {
		case tokLBrace:
			level++
		case tokRBrace:
			level--
			if level == 0 {
				return t.pos
			}
		case tokEOF:
			return t.pos
		}
	}
}

// unterminated handles words cut off by "}" or EOF before a ";". A ";"
// forgotten at the end of a line makes the next lines run on as arguments,
// so the words are split at line breaks: each line becomes its own
// directive, reported at the spot where its ";" belongs, and parsing goes on
// as if the ";" had been there.
func (p *parser) unterminated(st *fileState, out []*Directive, words []token, term token, depth int) []*Directive {
	runs := splitLines(words)
	for i, run := range runs {
		d := newDirective(run)
		last := run[len(run)-1]
		d.End = last.end
		text := snippet(st.lx.src[run[0].off:last.endOff])
		if i == len(runs)-1 && term.kind == tokEOF {
			p.errorf(last.end, `unexpected end of file, expecting ";" or "}": add ";" after %q`, text)
		} else {
			p.errorf(last.end, `missing ";" after %q: every directive ends with ";"`, text)
		}
		out = p.add(out, d, depth)
	}
	return out
}

// splitLines groups words into runs; a run ends where the next word starts
// on a later line than the previous word ended.
func splitLines(words []token) [][]token {
	var runs [][]token
	start := 0
	for i := 1; i < len(words); i++ {
		if words[i].pos.Line > words[i-1].end.Line {
			runs = append(runs, words[start:i])
			start = i
		}
	}
	return append(runs, words[start:])
}

// snippet shortens source text for a message: first line only, at most 60
// bytes, cut on a character boundary.
func snippet(b []byte) string {
	cut := false
	if len(b) > 200 {
		b, cut = b[:200], true
	}
	s := string(b)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s, cut = strings.TrimRight(s[:i], " \t\r"), true
	}
	if len(s) > 60 {
		n := 60
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s, cut = s[:n], true
	}
	if cut {
		s += "..."
	}
	return s
}

func newDirective(words []token) *Directive {
	d := &Directive{Name: words[0].val, Pos: words[0].pos}
	if n := len(words) - 1; n > 0 {
		d.Args = make([]string, 0, n)
		d.ArgPos = make([]Pos, 0, n)
		d.Quoted = make([]byte, 0, n)
		for _, w := range words[1:] {
			d.Args = append(d.Args, w.val)
			d.ArgPos = append(d.ArgPos, w.pos)
			d.Quoted = append(d.Quoted, w.quote)
		}
	}
	return d
}

// add appends d, or in place of an include, the directives it brings in.
func (p *parser) add(out []*Directive, d *Directive, depth int) []*Directive {
	if d.Name == "include" {
		return append(out, p.include(d, depth)...)
	}
	return append(out, d)
}
