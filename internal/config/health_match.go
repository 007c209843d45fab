package config

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"bunsan/internal/conf"
)

// handleMatch reads a match block. Its lines are not directives of the
// table (status, header and body in http; send and expect in stream), so
// the block is read here, line by line.
func handleMatch(l *loader, s *scope, d *conf.Directive) error {
	stream := s.ctx == CtxStream
	h := healthTable(l.m)
	ms := h.Matches
	if stream {
		ms = h.StreamMatches
	}
	name := d.Args[0]
	if prev := ms[name]; prev != nil {
		return argError(d, 0, "duplicate match %q: it is already defined at %s:%d", name, prev.Pos.File, prev.Pos.Line)
	}
	m := &Match{Pos: toPos(d.Pos), Name: name, Stream: stream}
	ok := true
	for _, line := range d.Block {
		var err error
		if stream {
			err = matchStreamLine(m, line)
		} else {
			err = matchHTTPLine(m, line)
		}
		if err != nil {
			ok = false
			if ce, isConf := err.(*conf.Error); isConf {
				l.errs = append(l.errs, ce)
			} else {
				l.errorf(line.Pos, "%s", err.Error())
			}
		}
	}
	if stream && len(m.Expect) == 0 && m.ExpectRe == nil && len(m.Send) == 0 && ok {
		return fmt.Errorf("match %q tests nothing: add \"send\" and \"expect\" lines", name)
	}
	ms[name] = m
	return nil
}

// matchHTTPLine reads one line of an http match block:
//
//	status 200; status ! 500; status 200 204; status 200-399;
//	header Name; header ! Name; header Name = v; != ~ !~
//	body ~ "re"; body !~ "re";
func matchHTTPLine(m *Match, d *conf.Directive) error {
	if d.HasBlock {
		return fmt.Errorf("%q in a match block takes no block", d.Name)
	}
	args := d.Args
	switch d.Name {
	case "status":
		if len(m.Status) > 0 {
			return fmt.Errorf("\"status\" is duplicate in match %q: list every code on one line", m.Name)
		}
		if len(args) > 0 && args[0] == "!" {
			m.StatusNot, args = true, args[1:]
		}
		if len(args) == 0 {
			return fmt.Errorf("\"status\" needs codes or ranges, e.g. status 200-399;")
		}
		for i, a := range args {
			r, err := parseStatusRange(a)
			if err != nil {
				return argError(d, len(d.Args)-len(args)+i, "%v", err)
			}
			m.Status = append(m.Status, r)
		}
	case "header":
		t, err := parseHeaderTest(args)
		if err != nil {
			return err
		}
		m.Headers = append(m.Headers, t)
	case "body":
		if m.Body != nil {
			return fmt.Errorf("\"body\" is duplicate in match %q", m.Name)
		}
		if len(args) != 2 || (args[0] != "~" && args[0] != "!~") {
			return fmt.Errorf("\"body\" takes ~ or !~ and a regular expression, e.g. body ~ \"ok\";")
		}
		re, err := regexp.Compile(args[1])
		if err != nil {
			return argError(d, 1, "invalid regular expression %q: %v", args[1], err)
		}
		m.Body, m.BodyNot = re, args[0] == "!~"
	default:
		return fmt.Errorf("unknown line %q in match block: an http match takes status, header and body", d.Name)
	}
	return nil
}

func parseStatusRange(a string) (StatusRange, error) {
	lo, hi, isRange := strings.Cut(a, "-")
	if !isRange {
		hi = lo
	}
	l, err1 := strconv.Atoi(lo)
	h, err2 := strconv.Atoi(hi)
	if err1 != nil || err2 != nil || l < 100 || h > 599 || l > h {
		return StatusRange{}, fmt.Errorf("invalid status %q: write a code from 100 to 599 or a range such as 200-399", a)
	}
	return StatusRange{l, h}, nil
}

func parseHeaderTest(args []string) (HeaderTest, error) {
	switch len(args) {
	case 1:
		return HeaderTest{Name: args[0]}, nil
	case 2:
		if args[0] == "!" {
			return HeaderTest{Name: args[1], Op: "!"}, nil
		}
	case 3:
		t := HeaderTest{Name: args[0], Op: args[1], Value: args[2]}
		switch t.Op {
		case "=", "!=":
			return t, nil
		case "~", "!~":
			re, err := regexp.Compile(t.Value)
			if err != nil {
				return t, fmt.Errorf("invalid regular expression %q: %v", t.Value, err)
			}
			t.Re = re
			return t, nil
		}
	}
	return HeaderTest{}, fmt.Errorf("invalid header test %q: write header NAME; header ! NAME; or header NAME = | != | ~ | !~ VALUE;", strings.Join(args, " "))
}

// matchStreamLine reads one line of a stream match block:
//
//	send "bytes"; expect "bytes"; expect ~ "regex";
//
// Both take nginx's escapes and \xNN for any byte.
func matchStreamLine(m *Match, d *conf.Directive) error {
	if d.HasBlock {
		return fmt.Errorf("%q in a match block takes no block", d.Name)
	}
	switch d.Name {
	case "send":
		if len(d.Args) != 1 {
			return fmt.Errorf("\"send\" takes one string, e.g. send \"PING\\r\\n\";")
		}
		b, err := unescapeHex(d.Args[0])
		if err != nil {
			return argError(d, 0, "%v", err)
		}
		m.Send = b
	case "expect":
		switch {
		case len(d.Args) == 2 && d.Args[0] == "~":
			re, err := regexp.Compile(d.Args[1])
			if err != nil {
				return argError(d, 1, "invalid regular expression %q: %v", d.Args[1], err)
			}
			m.ExpectRe = re
		case len(d.Args) == 1:
			b, err := unescapeHex(d.Args[0])
			if err != nil {
				return argError(d, 0, "%v", err)
			}
			m.Expect = b
		default:
			return fmt.Errorf("\"expect\" takes a string or ~ and a regular expression")
		}
	default:
		return fmt.Errorf("unknown line %q in match block: a stream match takes send and expect", d.Name)
	}
	return nil
}

// unescapeHex turns \xNN into the byte NN; other text is kept as the
// configuration lexer left it.
func unescapeHex(s string) ([]byte, error) {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && s[i+1] == 'x' {
			if i+4 > len(s) {
				return nil, fmt.Errorf("invalid escape in %q: \\x takes two hex digits", s)
			}
			n, err := strconv.ParseUint(s[i+2:i+4], 16, 8)
			if err != nil {
				return nil, fmt.Errorf("invalid escape in %q: \\x takes two hex digits", s)
			}
			out = append(out, byte(n))
			i += 3
			continue
		}
		out = append(out, s[i])
	}
	return out, nil
}
