package config

import (
	"regexp"
	"strings"

	"bunsan/internal/conf"
)

// RewriteOp is one step of nginx's rewrite phase: a set, an if, or a
// return (server level; a location's return is its handler).
type RewriteOp struct {
	Set    *SetVar
	If     *If
	Return *Return
}

// If is an if block in its safe form: a condition, then set and return
// only. Left is the variable expression; Op is "" (true when non-empty
// and not "0"), "=", "!=", "~", "~*", "!~" or "!~*"; Right is the value
// or regular expression.
type If struct {
	Pos     Pos
	Left    string
	Op      string
	Right   string
	Rewrite []RewriteOp
	Return  *Return
}

// addRewrite appends a rewrite step where the walk stands: inside an if,
// a location or a server.
func (s *scope) addRewrite(op RewriteOp) {
	switch {
	case s.ifb != nil:
		s.ifb.Rewrite = append(s.ifb.Rewrite, op)
	case s.loc != nil:
		s.loc.Rewrite = append(s.loc.Rewrite, op)
	default:
		s.srv.Rewrite = append(s.srv.Rewrite, op)
	}
}

func handleIf(l *loader, s *scope, d *conf.Directive) error {
	args := append([]string(nil), d.Args...)
	if len(args) > 0 && args[len(args)-1] == ")" {
		args = args[:len(args)-1]
	} else if n := len(args); n > 0 {
		if !strings.HasSuffix(args[n-1], ")") {
			return argError(d, n-1, "missing \")\" in if condition")
		}
		args[n-1] = strings.TrimSuffix(args[n-1], ")")
	}
	if len(args) == 0 || !strings.HasPrefix(args[0], "(") {
		return argError(d, 0, "the if condition must be in parentheses, e.g. if ($request_method = POST) { ... }")
	}
	args[0] = strings.TrimPrefix(args[0], "(")
	if args[0] == "" {
		args = args[1:]
	}
	ib := &If{Pos: toPos(d.Pos)}
	switch len(args) {
	case 1:
		ib.Left = args[0]
	case 3:
		ib.Left, ib.Op, ib.Right = args[0], args[1], args[2]
	case 2:
		if args[0] == "-f" || args[0] == "!-f" || args[0] == "-d" || args[0] == "!-d" || args[0] == "-e" || args[0] == "!-e" || args[0] == "-x" || args[0] == "!-x" {
			return argError(d, 0, "file tests (%s) are not supported: bunsan serves no files", args[0])
		}
		ib.Left, ib.Op = args[0], args[1] // "($x = )": compared with ""
	default:
		return argError(d, 0, "invalid if condition: write ($var), ($var = value), ($var != value) or ($var ~ regex)")
	}
	if !strings.HasPrefix(ib.Left, "$") {
		return argError(d, 0, "the if condition must start with a variable, e.g. ($http_x)")
	}
	switch ib.Op {
	case "", "=", "!=":
	case "~", "~*", "!~", "!~*":
		pat := ib.Right
		if strings.HasSuffix(ib.Op, "*") {
			pat = "(?i)" + pat
		}
		if _, err := regexp.Compile(pat); err != nil {
			return argError(d, 2, "invalid regular expression %q: %v", ib.Right, err)
		}
	default:
		return argError(d, 1, "invalid operator %q in if: use =, !=, ~, ~*, !~ or !~*", ib.Op)
	}
	inner := &scope{ctx: CtxIf, srv: s.srv, loc: s.loc, ifb: ib, proxy: &Proxy{}, set: &Settings{}}
	for _, c := range d.Block {
		switch c.Name {
		case "set", "return", "if":
			if c.Name == "if" {
				l.errorf(c.Pos, "if inside if is not allowed")
				continue
			}
			l.directive(inner, c, map[string]bool{})
		default:
			l.errorf(c.Pos, "%q inside if is not supported by bunsan; only set and return are (the safe uses of if); move %q out of the if", c.Name, c.Name)
		}
	}
	s.addRewrite(RewriteOp{If: ib})
	return nil
}
