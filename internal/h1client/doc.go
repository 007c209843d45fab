// Package h1client is bunsan's HTTP/1.x client for backends: it owns the
// connections to them (dialing, TLS, the idle pool per address, reuse
// rules), writing requests and framing responses (status line, headers,
// Content-Length, chunked, close-delimited, 101 upgrades).
//
// A round trip runs on the caller's goroutine: one buffered write of the
// head and a small body, then the response is read from the connection's
// own bufio.Reader. There is no goroutine per connection or request.
//
// A connection is reused only when its response ended exactly where its
// framing said, nothing more was received, and the backend did not close
// it or send anything while it sat idle; otherwise it is closed, as nginx
// does. This is what keeps a backend that lies about a length from
// desynchronising a later request.
//
// It does not choose backends (package upstream), read configuration
// (the caller maps it to Options) or touch the server side of net/http.
package h1client
