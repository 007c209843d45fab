package metrics

import (
	"encoding/json"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

// ServePlus answers the read-only NGINX Plus status paths it owns, given
// the path after "/api/VERSION/": ["nginx"], ["connections"],
// ["http","requests"], ["http","server_zones"] and
// ["http","server_zones",NAME]. It reports false, writing nothing, for any
// other path, so the API handler can try its own (upstreams).
func (m *Metrics) ServePlus(w http.ResponseWriter, r *http.Request, segs []string) bool {
	var v any
	switch strings.Join(segs, "/") {
	case "nginx":
		v = m.plusNginx(r)
	case "connections":
		f := m.conns.Figures()
		v = map[string]int64{"accepted": int64(f.Accepted), "dropped": int64(f.Accepted - f.Handled),
			"active": f.Reading + f.Writing, "idle": f.Waiting}
	case "http/requests":
		f := m.conns.Figures()
		v = map[string]int64{"total": int64(f.Requests), "current": f.Writing}
	case "http/server_zones":
		zs := map[string]plusZone{}
		for _, z := range m.sortedZones() {
			zs[z.name] = plusZoneOf(z)
		}
		v = zs
	default:
		if len(segs) != 3 || segs[0] != "http" || segs[1] != "server_zones" {
			return false
		}
		m.mu.RLock()
		z := m.zones[segs[2]]
		m.mu.RUnlock()
		if z == nil {
			writePlus(w, http.StatusNotFound, plusError{Error: plusErr{Status: 404, Text: "server zone not found", Code: "ServerZoneNotFound"}})
			return true
		}
		v = plusZoneOf(z)
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		writePlus(w, http.StatusMethodNotAllowed, plusError{Error: plusErr{Status: 405, Text: "method not supported", Code: "MethodNotSupported"}})
		return true
	}
	writePlus(w, http.StatusOK, v)
	return true
}

type plusError struct {
	Error plusErr `json:"error"`
}

type plusErr struct {
	Status int    `json:"status"`
	Text   string `json:"text"`
	Code   string `json:"code"`
}

func writePlus(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

type plusNginx struct {
	Version       string `json:"version"`
	Build         string `json:"build"`
	Address       string `json:"address"`
	Generation    int64  `json:"generation"`
	LoadTimestamp string `json:"load_timestamp"`
	Timestamp     string `json:"timestamp"`
	PID           int    `json:"pid"`
	PPID          int    `json:"ppid"`
}

// plusTime is NGINX Plus's timestamp format: ISO 8601 UTC with
// milliseconds.
func plusTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func (m *Metrics) plusNginx(r *http.Request) plusNginx {
	addr := ""
	if la, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		addr, _, _ = net.SplitHostPort(la.String())
	}
	return plusNginx{
		Version:       m.opt.Version,
		Build:         "bunsan",
		Address:       addr,
		Generation:    m.generation.Load(),
		LoadTimestamp: plusTime(time.UnixMilli(m.loadedAt.Load())),
		Timestamp:     plusTime(m.opt.Now()),
		PID:           pid,
		PPID:          os.Getppid(),
	}
}

type plusZone struct {
	Processing int64         `json:"processing"`
	Requests   uint64        `json:"requests"`
	Responses  plusResponses `json:"responses"`
	Discarded  uint64        `json:"discarded"`
	Received   uint64        `json:"received"`
	Sent       uint64        `json:"sent"`
}

type plusResponses struct {
	C1xx  uint64            `json:"1xx"`
	C2xx  uint64            `json:"2xx"`
	C3xx  uint64            `json:"3xx"`
	C4xx  uint64            `json:"4xx"`
	C5xx  uint64            `json:"5xx"`
	Codes map[string]uint64 `json:"codes"`
	Total uint64            `json:"total"`
}

func plusZoneOf(z *Zone) plusZone {
	var c [5]uint64
	for i := range c {
		c[i] = z.classes[i].Load()
	}
	codes := map[string]uint64{}
	for i := range z.codes {
		if n := z.codes[i].Load(); n > 0 {
			codes[itoa(i+100)] = n
		}
	}
	return plusZone{
		Processing: z.processing.Load(),
		Requests:   z.requests.Load(),
		Responses:  plusResponses{C1xx: c[0], C2xx: c[1], C3xx: c[2], C4xx: c[3], C5xx: c[4], Codes: codes, Total: c[0] + c[1] + c[2] + c[3] + c[4]},
		Discarded:  z.discarded.Load(),
		Received:   z.received.Load(),
		Sent:       z.sent.Load(),
	}
}

// WrapAPI puts the status paths in front of the upstream API handler of
// an "api" location at prefix (e.g. "/api"): /VERSION/nginx,
// /VERSION/connections, /VERSION/http/requests and
// /VERSION/http/server_zones are answered here, everything else goes to
// next. VERSION is any of 1 to 9, as the API accepts.
func (m *Metrics) WrapAPI(prefix string, next http.Handler) http.Handler {
	prefix = strings.TrimSuffix(prefix, "/")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest, ok := strings.CutPrefix(r.URL.Path, prefix+"/")
		if ok {
			segs := strings.Split(strings.Trim(rest, "/"), "/")
			if len(segs) > 1 && len(segs[0]) == 1 && segs[0] >= "1" && segs[0] <= "9" && m.ServePlus(w, r, segs[1:]) {
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}
