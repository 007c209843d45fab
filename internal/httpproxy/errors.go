package httpproxy

import (
	"net/http"
	"strconv"
)

// writeError answers with nginx's error page shape, so that clients and
// monitors that look at the body see what they saw with nginx.
func writeError(w http.ResponseWriter, code int) {
	text := strconv.Itoa(code) + " " + http.StatusText(code)
	body := "<html>\r\n<head><title>" + text + "</title></head>\r\n<body>\r\n<center><h1>" + text +
		"</h1></center>\r\n<hr><center>bunsan</center>\r\n</body>\r\n</html>\r\n"
	h := w.Header()
	h.Set("Content-Type", "text/html")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	_, _ = w.Write([]byte(body))
}
