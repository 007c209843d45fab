package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"bunsan/internal/upstream"
)

// maxBody bounds a request body: a server's parameters fit in far less.
const maxBody = 64 << 10

// servers serves /upstreams/{name}/servers: GET lists, POST adds.
func (h *handler) servers(w http.ResponseWriter, r *http.Request, g *upstream.Group, stream bool) {
	if !h.method(w, r, http.MethodGet, http.MethodPost) {
		return
	}
	if r.Method != http.MethodPost {
		writeJSON(w, http.StatusOK, confsJSON(g.ServerConfs()))
		return
	}
	fields, aerr := readFields(r)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	s := upstream.ServerSpec{
		Weight:      upstream.DefaultWeight,
		MaxFails:    upstream.DefaultMaxFails,
		FailTimeout: upstream.DefaultFailTimeout,
	}
	if _, ok := fields["server"]; !ok {
		writeError(w, formatError("missing \"server\" argument"))
		return
	}
	if aerr := applyFields(&s, fields, stream, true); aerr != nil {
		writeError(w, aerr)
		return
	}
	c, err := g.AddServer(s)
	if aerr := h.changeError(g, stream, err); aerr != nil {
		writeError(w, aerr)
		return
	}
	writeJSON(w, http.StatusCreated, confJSON(c))
}

// server serves /upstreams/{name}/servers/{id}: GET, PATCH, DELETE.
func (h *handler) server(w http.ResponseWriter, r *http.Request, g *upstream.Group, id int, stream bool) {
	if !h.method(w, r, http.MethodGet, http.MethodPatch, http.MethodDelete) {
		return
	}
	switch r.Method {
	case http.MethodPatch:
		fields, aerr := readFields(r)
		if aerr != nil {
			writeError(w, aerr)
			return
		}
		var ferr *apiError
		c, err := g.UpdateServer(id, func(s *upstream.ServerSpec) error {
			if ferr = applyFields(s, fields, stream, false); ferr != nil {
				return ferr
			}
			return nil
		})
		if ferr != nil {
			writeError(w, ferr)
			return
		}
		if aerr := h.changeError(g, stream, err); aerr != nil {
			writeError(w, aerr)
			return
		}
		writeJSON(w, http.StatusOK, confJSON(c))
	case http.MethodDelete:
		err := g.RemoveServer(id)
		if aerr := h.changeError(g, stream, err); aerr != nil {
			writeError(w, aerr)
			return
		}
		// NGINX Plus answers a removal with the servers that remain.
		writeJSON(w, http.StatusOK, confsJSON(g.ServerConfs()))
	default:
		c, ok := g.ServerConf(id)
		if !ok {
			writeError(w, errServerNotFound)
			return
		}
		writeJSON(w, http.StatusOK, confJSON(c))
	}
}

// changeError maps an error of a run-time change to the API's. A state
// file that could not be written is logged, not returned: the change took
// effect.
func (h *handler) changeError(g *upstream.Group, stream bool, err error) *apiError {
	var pe *upstream.PersistError
	switch {
	case err == nil:
		h.changed(g, stream)
		return nil
	case errors.As(err, &pe):
		h.log.Error("upstream API change applied but not saved", "upstream", g.Name(), "error", pe.Err)
		h.changed(g, stream)
		return nil
	case errors.Is(err, upstream.ErrServerNotFound):
		return errServerNotFound
	case errors.Is(err, upstream.ErrServerExists):
		return errEntryExists
	case errors.Is(err, upstream.ErrImmutable):
		return errServerImmutable
	case errors.Is(err, upstream.ErrBackupMethod):
		return errNoBackup
	}
	return formatError(err.Error())
}

// readFields reads a JSON object of server parameters. Values stay raw
// so each parameter can be checked with its own error code.
func readFields(r *http.Request) (map[string]json.RawMessage, *apiError) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, errBodyRead
	}
	if len(body) > maxBody {
		return nil, newError(http.StatusRequestEntityTooLarge, "TooLargeBody", "request body too large")
	}
	var fields map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&fields); err != nil || fields == nil {
		return nil, newError(http.StatusUnsupportedMediaType, "JsonError", "invalid JSON: a JSON object is expected")
	}
	return fields, nil
}

// applyFields sets the parameters in fields on s, checking each as NGINX
// Plus does. adding is true for POST, where "backup" may be given.
func applyFields(s *upstream.ServerSpec, fields map[string]json.RawMessage, stream, adding bool) *apiError {
	for name, raw := range fields {
		if len(raw) > 0 && (raw[0] == '{' || raw[0] == '[') {
			return formatError(fmt.Sprintf("nested object or list in %q", name))
		}
		var err *apiError
		switch name {
		case "server":
			var v string
			if json.Unmarshal(raw, &v) != nil {
				return newError(http.StatusBadRequest, "UpstreamBadAddress", "invalid \"server\" value")
			}
			addr, aerr := normalizeAddr(v, stream)
			if aerr != nil {
				return aerr
			}
			if !adding && addr != s.Addr {
				return errServerImmutable
			}
			s.Addr, s.Written = addr, v
		case "weight":
			err = intField(raw, &s.Weight, 1, "UpstreamBadWeight", name)
		case "max_conns":
			err = intField(raw, &s.MaxConns, 0, "UpstreamBadMaxConns", name)
		case "max_fails":
			err = intField(raw, &s.MaxFails, 0, "UpstreamBadMaxFails", name)
		case "fail_timeout":
			err = timeField(raw, &s.FailTimeout, "UpstreamBadFailTimeout", name)
		case "slow_start":
			err = timeField(raw, &s.SlowStart, "UpstreamBadSlowStart", name)
		case "route":
			if stream {
				return formatError("unknown parameter \"route\"")
			}
			var v string
			if json.Unmarshal(raw, &v) != nil || len(v) > 32 {
				return newError(http.StatusBadRequest, "UpstreamBadRoute", "invalid \"route\" value")
			}
			s.Route = v
		case "backup":
			var v bool
			if json.Unmarshal(raw, &v) != nil {
				return formatError("invalid \"backup\" value")
			}
			if !adding && v != s.Backup {
				return errServerImmutable
			}
			s.Backup = v
		case "down":
			err = boolField(raw, &s.Down, name)
		case "drain":
			err = boolField(raw, &s.Drain, name)
		case "id":
			// Tools send back what they read; an id that names another
			// server is an error.
			continue
		case "service":
			return newError(http.StatusBadRequest, "UpstreamBadService", "\"service\" (DNS SRV) is not supported")
		default:
			return formatError(fmt.Sprintf("unknown parameter %q", name))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func intField(raw json.RawMessage, dst *int, minV int, code, name string) *apiError {
	var v int
	if json.Unmarshal(raw, &v) != nil || v < minV {
		return newError(http.StatusBadRequest, code, fmt.Sprintf("invalid %q value", name))
	}
	*dst = v
	return nil
}

func boolField(raw json.RawMessage, dst *bool, name string) *apiError {
	if json.Unmarshal(raw, dst) != nil {
		return formatError(fmt.Sprintf("invalid %q value", name))
	}
	return nil
}

// timeField reads nginx's time syntax ("10s", "500ms", "1m30s"; a bare
// number is seconds), as a string or a number.
func timeField(raw json.RawMessage, dst *time.Duration, code, name string) *apiError {
	bad := newError(http.StatusBadRequest, code, fmt.Sprintf("invalid %q value", name))
	var s string
	if json.Unmarshal(raw, &s) != nil {
		var n int64
		if json.Unmarshal(raw, &n) != nil {
			return bad
		}
		s = strconv.FormatInt(n, 10)
	}
	d, err := ParseTime(s)
	if err != nil {
		return bad
	}
	*dst = d
	return nil
}

// ParseTime reads nginx's time syntax: numbers with units ms, s, m, h, d,
// w, M (30 days), y (365 days), concatenated ("1m30s"); a bare number is
// seconds.
func ParseTime(s string) (time.Duration, error) {
	if s == "" {
		return 0, errors.New("empty time")
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= 0 {
		return time.Duration(n) * time.Second, nil
	}
	units := []struct {
		suffix string
		d      time.Duration
	}{{"ms", time.Millisecond}, {"s", time.Second}, {"m", time.Minute}, {"h", time.Hour},
		{"d", 24 * time.Hour}, {"w", 7 * 24 * time.Hour}, {"M", 30 * 24 * time.Hour}, {"y", 365 * 24 * time.Hour}}
	var total time.Duration
	for s != "" {
		i := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == 0 || i > 9 {
			return 0, fmt.Errorf("invalid time %q", s)
		}
		n, _ := strconv.ParseInt(s[:i], 10, 64)
		s = s[i:]
		matched := false
		for _, u := range units {
			if strings.HasPrefix(s, u.suffix) {
				total += time.Duration(n) * u.d
				s = s[len(u.suffix):]
				matched = true
				break
			}
		}
		if !matched {
			return 0, fmt.Errorf("invalid time unit in %q", s)
		}
	}
	return total, nil
}

// normalizeAddr turns "host[:port]" into the address form the
// configuration uses, so state matches servers written in the file: a
// port is required for streams and defaults to 80 for http.
func normalizeAddr(v string, stream bool) (string, *apiError) {
	bad := func(why string) *apiError {
		return newError(http.StatusBadRequest, "UpstreamBadAddress", why)
	}
	if v == "" || strings.ContainsAny(v, " /{}$;") || strings.Contains(v, "://") {
		return "", bad(fmt.Sprintf("invalid server address %q", v))
	}
	host, port, err := net.SplitHostPort(v)
	if err != nil {
		if stream {
			return "", bad(fmt.Sprintf("no port in server %q", v))
		}
		host, port = strings.Trim(v, "[]"), "80"
	}
	if host == "" {
		return "", bad(fmt.Sprintf("no host in server %q", v))
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", bad(fmt.Sprintf("invalid port in server %q", v))
	}
	return net.JoinHostPort(host, port), nil
}

// changed tells active health checks that the group's servers changed.
func (h *handler) changed(g *upstream.Group, stream bool) {
	if h.opts.HealthSync != nil {
		h.opts.HealthSync(stream, g.Name())
	}
}
