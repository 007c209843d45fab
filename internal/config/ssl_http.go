package config

import (
	"runtime"
	"sync"
	"weak"
)

// httpLevel holds the ssl_* and proxy_ssl_* settings written directly in
// an http block. HTTP is the HTTP side's type, so these settings hang off
// it here rather than as a field; the key is a weak pointer, and a cleanup
// removes the entry when its model is discarded after a reload.
var httpLevel = struct {
	sync.Mutex
	m map[weak.Pointer[HTTP]]*SSL
}{m: map[weak.Pointer[HTTP]]*SSL{}}

// tlsDefaults returns the http-level TLS settings of h, creating them when
// create is set; nil when none were written.
func (h *HTTP) tlsDefaults(create bool) *SSL {
	if h == nil {
		return nil
	}
	httpLevel.Lock()
	defer httpLevel.Unlock()
	k := weak.Make(h)
	s := httpLevel.m[k]
	if s == nil && create {
		s = &SSL{}
		httpLevel.m[k] = s
		runtime.AddCleanup(h, func(k weak.Pointer[HTTP]) {
			httpLevel.Lock()
			delete(httpLevel.m, k)
			httpLevel.Unlock()
		}, k)
	}
	return s
}
