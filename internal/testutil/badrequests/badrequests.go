// Package badrequests is the shared table of malformed and ambiguous
// HTTP/1 requests that every bunsan listener must refuse, with the status
// each gets. The HTTP/1 server's own tests and the proxy's end-to-end
// tests (which also check that no backend saw them) run the same cases.
// It is test data only: nothing in the data path imports it.
package badrequests

import "strings"

// Case is one request and the status it must get; the connection must
// close after the answer.
type Case struct {
	Name, Req, Code string
}

// Cases are the requests, for large_client_header_buffers 4 1k (the
// oversize cases assume it).
func Cases() []Case {
	long := strings.Repeat("a", 2000)
	return []Case{
		{"CL and TE", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "400"},
		{"TE and CL", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", "400"},
		{"duplicate CL same", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx", "400"},
		{"duplicate CL differ", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx", "400"},
		{"CL list", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1, 1\r\n\r\nx", "400"},
		{"CL sign", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +1\r\n\r\nx", "400"},
		{"CL hex", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x1\r\n\r\nx", "400"},
		{"TE obfuscated list", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n", "501"},
		{"TE obfuscated name", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n", "501"},
		{"TE twice", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "400"},
		{"TE in HTTP/1.0", "POST / HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "400"},
		{"TE space before colon", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n", "400"},
		{"bare LF", "GET / HTTP/1.1\nHost: a\n\n", "400"},
		{"bare LF in header", "GET / HTTP/1.1\r\nHost: a\nX: y\r\n\r\n", "400"},
		{"bare CR", "GET / HTTP/1.1\r\nHost: a\rX: y\r\n\r\n", "400"},
		{"NUL in header", "GET / HTTP/1.1\r\nHost: a\r\nX: a\x00b\r\n\r\n", "400"},
		{"CTL in header", "GET / HTTP/1.1\r\nHost: a\r\nX: a\x01b\r\n\r\n", "400"},
		{"folding", "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", "400"},
		{"duplicate Host", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", "400"},
		{"missing Host", "GET / HTTP/1.1\r\nX: a\r\n\r\n", "400"},
		{"bad Host", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", "400"},
		{"bad request line", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", "400"},
		{"bad method", "G(T / HTTP/1.1\r\nHost: a\r\n\r\n", "400"},
		{"bad target", "GET foo HTTP/1.1\r\nHost: a\r\n\r\n", "400"},
		{"HTTP/2 line", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", "505"},
		{"h2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "505"},
		{"URI too long", "GET /" + long + " HTTP/1.1\r\nHost: a\r\n\r\n", "414"},
		{"URI too long, incomplete", "GET /" + long, "414"},
		{"header line too long", "GET / HTTP/1.1\r\nHost: a\r\nX: " + long + "\r\n\r\n", "431"},
		{"head too large", "GET / HTTP/1.1\r\nHost: a\r\n" + strings.Repeat("X-A: "+strings.Repeat("b", 900)+"\r\n", 6) + "\r\n", "431"},
	}
}
