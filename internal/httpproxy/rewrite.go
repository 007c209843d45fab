package httpproxy

import (
	"fmt"
	"regexp"
	"strings"

	"bunsan/internal/config"
)

// rewriteOp is one compiled step of nginx's rewrite phase: a set, or an
// if whose body is more steps and possibly a return.
type rewriteOp struct {
	set *setOp
	cnd *condition
	sub []rewriteOp
	ret *returnHandler
}

type setOp struct {
	slot int
	val  *expr
}

// condition is an if's test.
type condition struct {
	left  *expr
	op    string
	right *expr
	re    *regexp.Regexp
}

func compileRewrite(ops []config.RewriteOp, sc *varScope) ([]rewriteOp, error) {
	var out []rewriteOp
	for _, op := range ops {
		switch {
		case op.Set != nil:
			e, err := compileExpr(op.Set.Value, sc)
			if err != nil {
				return nil, err
			}
			out = append(out, rewriteOp{set: &setOp{slot: sc.slot(op.Set.Name), val: e}})
		case op.Return != nil:
			h, err := newReturnHandler(op.Return, sc)
			if err != nil {
				return nil, err
			}
			out = append(out, rewriteOp{ret: h.(*returnHandler)})
		case op.If != nil:
			ib := op.If
			at := func(err error) error { return fmt.Errorf("%s:%d: if: %w", ib.Pos.File, ib.Pos.Line, err) }
			cnd := &condition{op: ib.Op}
			var err error
			if cnd.left, err = compileExpr(ib.Left, sc); err != nil {
				return nil, at(err)
			}
			switch ib.Op {
			case "~", "~*", "!~", "!~*":
				pat := ib.Right
				if strings.HasSuffix(ib.Op, "*") {
					pat = "(?i)" + pat
				}
				if cnd.re, err = regexp.Compile(pat); err != nil {
					return nil, at(err)
				}
			case "=", "!=":
				if cnd.right, err = compileExpr(ib.Right, sc); err != nil {
					return nil, at(err)
				}
			}
			ro := rewriteOp{cnd: cnd}
			if ro.sub, err = compileRewrite(ib.Rewrite, sc); err != nil {
				return nil, err
			}
			if ib.Return != nil {
				h, err := newReturnHandler(ib.Return, sc)
				if err != nil {
					return nil, at(err)
				}
				ro.ret = h.(*returnHandler)
			}
			out = append(out, ro)
		}
	}
	return out, nil
}

// runRewrite runs the steps in order; a true if with a return ends the
// phase and its return answers the request.
func runRewrite(c *reqCtx, ops []rewriteOp) *returnHandler {
	for i := range ops {
		op := &ops[i]
		if op.set != nil {
			c.vals[op.set.slot] = op.set.val.String(c)
			c.ok[op.set.slot] = true
			continue
		}
		if op.cnd == nil {
			return op.ret // an unconditional return
		}
		if !op.cnd.test(c) {
			continue
		}
		if ret := runRewrite(c, op.sub); ret != nil {
			return ret
		}
		if op.ret != nil {
			return op.ret
		}
	}
	return nil
}

// test evaluates the condition as nginx's ngx_http_script_if_code does:
// a bare variable is true unless empty or "0"; regex matches set $1….
func (cd *condition) test(c *reqCtx) bool {
	v := cd.left.String(c)
	switch cd.op {
	case "":
		return v != "" && v != "0"
	case "=":
		return v == cd.right.String(c)
	case "!=":
		return v != cd.right.String(c)
	case "!~", "!~*":
		return !cd.re.MatchString(v)
	}
	m := cd.re.FindStringSubmatch(v)
	if m == nil {
		return false
	}
	c.caps, c.capRe = m, cd.re
	return true
}

// declareRewrite gives every set variable a slot before anything is
// compiled, so a variable may be used before the line that sets it.
func declareRewrite(ops []config.RewriteOp, sc *varScope) {
	for _, op := range ops {
		if op.Set != nil {
			sc.slot(op.Set.Name)
		}
		if op.If != nil {
			declareRewrite(op.If.Rewrite, sc)
		}
	}
}
