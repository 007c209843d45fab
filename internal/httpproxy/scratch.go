package httpproxy

import (
	"net/http"
	"net/url"
	"sync"

	"bunsan/internal/upstream"
)

// scratch is what one proxy_pass needs for the life of its round trips:
// the outgoing request, its URL and header, and the servers tried. It is
// pooled per proxy_pass call rather than kept in reqCtx, because an
// error_page can run a second proxy_pass while the first one's call is
// still on the stack.
type scratch struct {
	out   http.Request
	url   url.URL
	hdr   http.Header
	tried upstream.Tried
}

var scratches = sync.Pool{New: func() any { return &scratch{hdr: make(http.Header, 16)} }}

func getScratch() *scratch {
	sc := scratches.Get().(*scratch)
	sc.tried.Reset()
	return sc
}

// putScratch forgets the request (it points at the client's) and keeps
// the memory.
func putScratch(sc *scratch) {
	sc.out = http.Request{}
	sc.url = url.URL{}
	clear(sc.hdr)
	scratches.Put(sc)
}
