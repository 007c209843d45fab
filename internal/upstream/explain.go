package upstream

import "strings"

// Explanation tells why a pick chose its server: the method that ran, the
// servers it passed over and why, any fallback it took and the winner's
// score. Pass one in PickRequest.Explain to fill it; with a nil Explain
// the pick records nothing and costs nothing extra. Reset it before
// reusing it for another request (a retry appends to the same one).
type Explanation struct {
	Method   string // e.g. "round_robin", "hash consistent", "sticky route"
	Fallback string // e.g. "round_robin after 20 tries", "backup"
	Skipped  []Skip
	Winner   string // the chosen server's address
	Score    string // method-specific: "conns=2 weight=1", "eta=40ms", "point=…"
}

// Skip is a server a pick passed over.
type Skip struct {
	Addr   string
	Reason SkipReason
}

// SkipReason says why a server was passed over.
type SkipReason uint8

// The reasons a server is passed over.
const (
	SkipTried      SkipReason = iota + 1 // already tried for this request
	SkipDown                             // "down" in configuration or set down
	SkipDraining                         // draining: only sticky requests
	SkipUnhealthy                        // failed active health checks
	SkipFailed                           // max_fails failures within fail_timeout
	SkipMaxConns                         // max_conns reached
	SkipBackup                           // a backup server while a primary is up
	SkipOverloaded                       // above balance_factor × average load
)

var skipNames = [...]string{"", "tried", "down", "draining", "unhealthy", "failed", "max_conns", "backup", "overloaded"}

func (r SkipReason) String() string {
	if int(r) < len(skipNames) {
		return skipNames[r]
	}
	return "unknown"
}

// Reset empties the explanation, keeping its memory.
func (e *Explanation) Reset() {
	*e = Explanation{Skipped: e.Skipped[:0]}
}

// String renders the explanation on one line for a debug log or header:
//
//	method=least_conn winner=10.0.0.2:80 score="conns=0 weight=1" skipped=10.0.0.1:80(failed)
func (e *Explanation) String() string {
	var b strings.Builder
	b.WriteString("method=")
	b.WriteString(e.Method)
	if e.Fallback != "" {
		b.WriteString(` fallback="`)
		b.WriteString(e.Fallback)
		b.WriteByte('"')
	}
	if e.Winner != "" {
		b.WriteString(" winner=")
		b.WriteString(e.Winner)
	} else {
		b.WriteString(" winner=none")
	}
	if e.Score != "" {
		b.WriteString(` score="`)
		b.WriteString(e.Score)
		b.WriteByte('"')
	}
	if len(e.Skipped) > 0 {
		b.WriteString(" skipped=")
		for i, s := range e.Skipped {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(s.Addr)
			b.WriteByte('(')
			b.WriteString(s.Reason.String())
			b.WriteByte(')')
		}
	}
	return b.String()
}

func (e *Explanation) fallback(s string) {
	if e.Fallback == "" {
		e.Fallback = s
	} else {
		e.Fallback += "; " + s
	}
}
