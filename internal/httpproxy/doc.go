// Package httpproxy is the HTTP data path (L7): it chooses the virtual
// server by address and Host, the location by nginx's precedence, and
// proxies the request to an upstream group or a fixed backend, retrying
// the next server as proxy_next_upstream allows.
//
// It is built from a config.Model once per load (a Snapshot) and reads
// nothing but that snapshot and the upstream groups' live state on the
// request path. It does not parse configuration, open listeners or handle
// signals (package process does).
package httpproxy
