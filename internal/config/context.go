package config

import "strings"

// Context is a set of places a directive may appear, as nginx's
// NGX_*_CONF flags are.
type Context uint32

// The contexts bunsan knows.
const (
	CtxMain Context = 1 << iota
	CtxEvents
	CtxHTTP
	CtxServer
	CtxLocation
	CtxUpstream
	CtxIf
	CtxLimitExcept
	CtxStream
	CtxStreamServer
	CtxStreamUpstream
)

// Common context sets.
const (
	CtxHTTPAll   = CtxHTTP | CtxServer | CtxLocation
	CtxStreamAll = CtxStream | CtxStreamServer
)

var contextNames = []struct {
	c    Context
	name string
}{
	{CtxMain, "main"},
	{CtxEvents, "events"},
	{CtxHTTP, "http"},
	{CtxServer, "server"},
	{CtxLocation, "location"},
	{CtxUpstream, "upstream"},
	{CtxIf, "if"},
	{CtxLimitExcept, "limit_except"},
	{CtxStream, "stream"},
	{CtxStreamServer, "server"},
	{CtxStreamUpstream, "upstream"},
}

// blockName is the name a user sees for the block a context stands for.
func (c Context) blockName() string {
	for _, n := range contextNames {
		if c == n.c {
			if c == CtxStreamServer || c == CtxStreamUpstream {
				return "stream " + n.name
			}
			return n.name
		}
	}
	return "?"
}

// String lists the blocks in c, "http, server or location".
func (c Context) String() string {
	var names []string
	for _, n := range contextNames {
		if c&n.c != 0 {
			name := n.c.blockName()
			if n.c == CtxMain {
				name = "the top level (main)"
			}
			names = append(names, name)
		}
	}
	switch len(names) {
	case 0:
		return "nowhere"
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
