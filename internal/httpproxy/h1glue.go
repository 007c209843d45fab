package httpproxy

import (
	"bufio"
	"net/http"
	"strconv"
	"strings"
)

// refusalHead is the synthetic request that carries a refusal to the
// handler: Snapshot.serve answers it with the status, nginx's error page
// and "Connection: close", and logs it like any request.
func refusalHead(code int) string {
	return "GET / HTTP/1.1\r\nHost: refused.invalid\r\nConnection: close\r\n" + markerName + ": " + strconv.Itoa(code) + "\r\n\r\n"
}

// RefusedRequest is h1server.Server's Refuse hook: the same synthetic
// request the guard injects, parsed as net/http parsed it, so that a
// refusal is answered and logged the same on both paths.
func RefusedRequest(code int) *http.Request {
	r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(refusalHead(code))))
	if err != nil {
		panic("httpproxy: the refusal request does not parse: " + err.Error())
	}
	delete(r.Header, "Host") // as net/http's server does
	return r
}
