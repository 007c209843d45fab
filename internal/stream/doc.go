// Package stream owns bunsan's L4 data path, nginx's stream module: TCP
// and UDP proxying to upstream groups, the preread phase (PROXY protocol
// from a front load balancer, the TLS ClientHello for ssl_preread),
// access rules, connection limits, stream variables and maps, return,
// TLS towards clients (listen ... ssl) and towards backends (proxy_ssl),
// and the stream access log.
//
// # One TCP session (tcp.go)
//
// accept → PROXY header (listen ... proxy_protocol, realip) → allow/deny →
// limit_conn → TLS handshake (listen ... ssl) → ClientHello preread
// (ssl_preread) → return, or pick a server and connect, moving on after
// connect errors (proxy_next_upstream) → PROXY header to the backend →
// TLS to the backend (proxy_ssl) → copy both ways (pipe.go) → report the
// outcome to the group → access log. UDP (udp.go) keeps a bounded table
// of client sessions instead.
//
// It chooses servers through the upstream package (the same groups and
// methods as HTTP, in a Store of its own, since nginx keeps http and
// stream upstream names apart) and terminates TLS with the tlsconf
// package. It opens no listening sockets: the process package does, and
// hands each accepted connection or packet socket to a Proxy.
//
// # Copying
//
// Bytes between two TCP connections move with (*net.TCPConn).ReadFrom
// given the other *net.TCPConn (through an io.LimitedReader, which the
// runtime unwraps), so Linux moves them with splice(2) and they never
// enter user space. Nothing wraps the connections. Rate limits and TLS
// termination need the bytes in hand and use a buffered loop instead.
package stream
