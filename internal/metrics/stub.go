package metrics

import (
	"fmt"
	"net/http"
)

// StubStatus serves nginx's stub_status page, byte for byte in nginx's
// format (ngx_http_stub_status_module.c), so tools that parse it (the
// Prometheus nginx exporter, collectd, Datadog) read bunsan unchanged:
//
//	Active connections: 291
//	server accepts handled requests
//	 16630948 16630948 31070465
//	Reading: 6 Writing: 179 Waiting: 106
//
// The trailing spaces are nginx's. Like nginx, it answers GET and HEAD
// only, counting the request it answers.
func (m *Metrics) StubStatus() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
			return
		}
		body := stubText(m.conns.Figures())
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			w.Write([]byte(body))
		}
	})
}

func stubText(f ConnFigures) string {
	return fmt.Sprintf("Active connections: %d \nserver accepts handled requests\n %d %d %d \nReading: %d Writing: %d Waiting: %d \n",
		f.Active, f.Accepted, f.Handled, f.Requests, f.Reading, f.Writing, f.Waiting)
}
