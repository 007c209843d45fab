package conf

import (
	"strconv"
	"strings"
)

// Pos is a position in a configuration file. Line and Col are 1-based; Col
// counts bytes, so a tab or a multi-byte character moves it by its length in
// bytes. A zero Line means the position names a whole file.
type Pos struct {
	File      string
	Line, Col int
}

// String returns "file:line:col", dropping the parts that are unknown.
func (p Pos) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		if p.File != "" {
			b.WriteByte(':')
		}
		b.WriteString(strconv.Itoa(p.Line))
		if p.Col > 0 {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(p.Col))
		}
	}
	return b.String()
}

// Error is one problem found while reading a configuration. Msg is lower-case
// and says both what is wrong and how to fix it.
type Error struct {
	Pos Pos
	Msg string
}

// Error returns "file:line:col: msg".
func (e *Error) Error() string {
	if s := e.Pos.String(); s != "" {
		return s + ": " + e.Msg
	}
	return e.Msg
}

// ErrorList is every problem found in one parse, in the order found, which is
// source order with included files in the place they are included.
type ErrorList []*Error

// Error returns the errors one per line.
func (l ErrorList) Error() string {
	var b strings.Builder
	for i, e := range l {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Err returns nil when the list is empty and the list itself otherwise, so a
// caller can return it as an error without the typed-nil trap.
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}
