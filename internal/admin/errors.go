package admin

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
)

// The "href" of every error, as NGINX Plus sends it.
const errorHref = "https://nginx.org/en/docs/http/ngx_http_api_module.html"

// apiError is one error of the API: the HTTP status, the text and the
// NGINX Plus error code (e.g. "UpstreamNotFound").
type apiError struct {
	Status int    `json:"status"`
	Text   string `json:"text"`
	Code   string `json:"code"`
}

func (e *apiError) Error() string { return e.Text }

// errorBody is NGINX Plus's error object.
type errorBody struct {
	Error     *apiError `json:"error"`
	RequestID string    `json:"request_id"`
	Href      string    `json:"href"`
}

func newError(status int, code, text string) *apiError {
	return &apiError{Status: status, Code: code, Text: text}
}

// The errors NGINX Plus answers with, by code.
var (
	errUnknownVersion     = newError(http.StatusNotFound, "UnknownVersion", "unknown version")
	errPathNotFound       = newError(http.StatusNotFound, "PathNotFound", "path not found")
	errUpstreamNotFound   = newError(http.StatusNotFound, "UpstreamNotFound", "upstream not found")
	errServerNotFound     = newError(http.StatusNotFound, "UpstreamServerNotFound", "server not found")
	errBadServerID        = newError(http.StatusBadRequest, "UpstreamBadServerId", "invalid server id")
	errMethodDisabled     = newError(http.StatusMethodNotAllowed, "MethodDisabled", "method disabled")
	errMethodNotSupported = newError(http.StatusMethodNotAllowed, "MethodNotSupported", "method not supported")
	errEntryExists        = newError(http.StatusConflict, "EntryExists", "entry exists")
	errServerImmutable    = newError(http.StatusBadRequest, "UpstreamServerImmutable", "server address and backup cannot be changed")
	errNoBackup           = newError(http.StatusBadRequest, "UpstreamBackupNotAllowed", "backup servers are not allowed with this balancing method")
	errBodyRead           = newError(http.StatusBadRequest, "BodyReadError", "error reading request body")
)

func formatError(text string) *apiError {
	return newError(http.StatusBadRequest, "UpstreamConfFormatError", text)
}

func writeError(w http.ResponseWriter, e *apiError) {
	writeJSON(w, e.Status, errorBody{Error: e, RequestID: requestID(), Href: errorHref})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"status":500,"text":"internal error","code":"InternalError"}}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
	w.Write([]byte("\n"))
}

// requestID is a random 32-hex-digit id, the shape of nginx's $request_id.
func requestID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
