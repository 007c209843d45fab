package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// checkedBackend names itself on every path and answers /healthz with the
// status the test sets, announcing each health check on checks.
type checkedBackend struct {
	addr   string
	status atomic.Int32
	checks chan struct{}
}

func newCheckedBackend(t *testing.T, name string) *checkedBackend {
	t.Helper()
	b := &checkedBackend{checks: make(chan struct{}, 1000)}
	b.status.Store(200)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			w.WriteHeader(int(b.status.Load()))
			b.checks <- struct{}{}
			return
		}
		io.WriteString(w, name)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	b.addr = ln.Addr().String()
	return b
}

// settle waits for two checks of b to begin: checks of one server never
// overlap, so the first of them has ended and its verdict is applied.
// ok is false when no check comes at all (health checks not wired in).
func (b *checkedBackend) settle(t *testing.T) bool {
	t.Helper()
	for range 2 {
		select {
		case <-b.checks:
		case <-time.After(5 * time.Second):
			return false
		}
	}
	return true
}

// drain forgets the checks announced so far.
func (b *checkedBackend) drain() {
	for {
		select {
		case <-b.checks:
		default:
			return
		}
	}
}

func TestHealthCheckEndToEnd(t *testing.T) {
	a, b := newCheckedBackend(t, "a"), newCheckedBackend(t, "b")
	lb := freePort(t)
	start(t, t.TempDir(), fmt.Sprintf(`
http {
    upstream app { server %s; server %s; }
    server {
        listen %s;
        status_zone front;
        location / { proxy_pass http://app; health_check interval=100ms uri=/healthz; }
        location /metrics { prometheus; }
        location = /basic_status { stub_status; }
        location /dashboard/ { dashboard; }
    }
}`, a.addr, b.addr, lb))
	if !b.settle(t) {
		t.Fatal("no health check reached the backend")
	}
	client := &http.Client{Timeout: 10 * time.Second}
	spread := func() map[string]int {
		seen := map[string]int{}
		for range 6 {
			_, body := get(t, client, "http://"+lb+"/")
			seen[body]++
		}
		return seen
	}
	if seen := spread(); seen["a"] != 3 || seen["b"] != 3 {
		t.Fatalf("both healthy: %v", seen)
	}
	b.status.Store(503)
	b.drain()
	b.settle(t)
	if seen := spread(); seen["a"] != 6 {
		t.Fatalf("b failing its checks still gets requests: %v", seen)
	}
	fams := scrapeBunsan(t, "http://"+lb+"/metrics")
	if v := gaugeOf(fams, "bunsan_upstream_server_healthy", b.addr); v == nil || *v != 0 {
		t.Errorf("metrics do not show b unhealthy: %v", v)
	}
	if v := gaugeOf(fams, "bunsan_upstream_server_healthy", a.addr); v == nil || *v != 1 {
		t.Errorf("metrics do not show a healthy: %v", v)
	}
	if _, st := get(t, client, "http://"+lb+"/dashboard/status.json"); !strings.Contains(st, `"server":"`+b.addr+`","state":"unhealthy"`) {
		t.Errorf("dashboard status does not show b unhealthy: %s", st)
	}
	if code, page := get(t, client, "http://"+lb+"/dashboard/"); code != 200 || !strings.Contains(page, "app.js") {
		t.Errorf("dashboard page: %d %.80q", code, page)
	}
	b.status.Store(200)
	b.drain()
	b.settle(t)
	if seen := spread(); seen["b"] != 3 {
		t.Fatalf("b recovered: %v", seen)
	}
	_, page := get(t, client, "http://"+lb+"/basic_status")
	if !regexp.MustCompile(`^Active connections: \d+ \nserver accepts handled requests\n \d+ \d+ \d+ \nReading: \d+ Writing: \d+ Waiting: \d+ \n$`).MatchString(page) {
		t.Errorf("stub_status page %q", page)
	}
}

func scrapeBunsan(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return fams
}

// gaugeOf is the value of a gauge for one upstream server, or nil.
func gaugeOf(fams map[string]*dto.MetricFamily, name, server string) *float64 {
	f := fams[name]
	if f == nil {
		return nil
	}
	for _, m := range f.Metric {
		for _, l := range m.Label {
			if l.GetName() == "server" && strings.EqualFold(l.GetValue(), server) && m.Gauge != nil {
				v := m.Gauge.GetValue()
				return &v
			}
		}
	}
	return nil
}
