package h1server

import (
	"net/http"
	"sync/atomic"
	"time"
)

// dateCache holds the Date value of the current second, formatted once
// per second instead of once per response.
var dateCache atomic.Pointer[cachedDate]

type cachedDate struct {
	sec int64
	b   []byte
}

func httpDate() []byte {
	now := time.Now()
	if d := dateCache.Load(); d != nil && d.sec == now.Unix() {
		return d.b
	}
	d := &cachedDate{sec: now.Unix(), b: now.UTC().AppendFormat(make([]byte, 0, 29), http.TimeFormat)}
	dateCache.Store(d)
	return d.b
}
