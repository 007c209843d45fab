// Package sockio reads and writes TCP sockets through Go's poller with
// recv and send system calls made directly, for the HTTP/1 hot paths of
// h1server and h1client. It owns nothing but that: no buffering, no
// deadlines of its own (the socket's, set through net.Conn, apply), no
// protocol.
//
// Why: net.Conn's Read and Write go through read(2)/write(2) wrapped in
// the runtime's entersyscall/exitsyscall. A non-blocking socket call
// never blocks, so the wrapper is pure cost, and recvfrom/sendto skip the
// VFS layer (file position lock, iov_iter set-up) that read and write
// pass through. On the proxy's four socket calls per request that was
// measurable (docs/performance.md).
package sockio
