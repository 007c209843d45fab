package httpproxy

import (
	"net/http"
	"strconv"
)

// nginxText is the wording of nginx's own error pages where it differs
// from Go's status text; clients and monitors that match on the page
// see what they saw with nginx.
var nginxText = map[int]string{
	301: "Moved Permanently", 302: "Found", 401: "Authorization Required", 405: "Not Allowed",
	408: "Request Time-out", 413: "Request Entity Too Large", 414: "Request-URI Too Large",
	416: "Requested Range Not Satisfiable", 503: "Service Temporarily Unavailable", 504: "Gateway Time-out",
}

// writeError answers with nginx's error page shape.
func writeError(w http.ResponseWriter, code int) {
	reason, ok := nginxText[code]
	if !ok {
		reason = http.StatusText(code)
	}
	writeErrorReason(w, code, reason)
}

// writeErrorReason is writeError with nginx's wording for a case that
// shares a status with others (400 "No required SSL certificate was sent").
func writeErrorReason(w http.ResponseWriter, code int, reason string) {
	text := strconv.Itoa(code) + " " + reason
	body := "<html>\r\n<head><title>" + text + "</title></head>\r\n<body>\r\n<center><h1>" + text +
		"</h1></center>\r\n<hr><center>bunsan</center>\r\n</body>\r\n</html>\r\n"
	h := w.Header()
	h.Set("Content-Type", "text/html")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	_, _ = w.Write([]byte(body))
}
