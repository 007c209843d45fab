package metrics

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"bunsan/internal/upstream"
)

// front is a small load balancer wired to Metrics the way the HTTP proxy
// is meant to be: Conns on the server, a Zone per server block, Begin/End
// around each request, Peer.Observe after each attempt.
type front struct {
	*httptest.Server
	m     *Metrics
	group *upstream.Group
	idle  chan struct{}
}

// backendServer answers with its name and the status the test sets.
type backendServer struct {
	*httptest.Server
	status atomic.Int32
}

func newBackendServer(t *testing.T, name string) *backendServer {
	t.Helper()
	b := &backendServer{}
	b.status.Store(200)
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(int(b.status.Load()))
		io.WriteString(w, name)
	}))
	t.Cleanup(b.Close)
	return b
}

func newFront(t *testing.T, backends ...*backendServer) *front {
	t.Helper()
	spec := upstream.Spec{Name: "app", Method: upstream.RoundRobin}
	for _, b := range backends {
		spec.Servers = append(spec.Servers, upstream.ServerSpec{Addr: b.Listener.Addr().String(), Weight: 1, MaxFails: 0, FailTimeout: time.Second})
	}
	g, err := upstream.NewStore(nil).Build(spec)
	if err != nil {
		t.Fatal(err)
	}
	f := &front{group: g}
	f.m = New(Options{HTTP: func() []*upstream.Group { return []*upstream.Group{g} }})
	zone := f.m.Zone("site")
	mux := http.NewServeMux()
	mux.Handle("/basic_status", f.m.StubStatus())
	mux.Handle("/metrics", f.m.Handler())
	mux.HandleFunc("/api/9/", func(w http.ResponseWriter, r *http.Request) {
		segs := strings.Split(strings.TrimPrefix(r.URL.Path, "/api/9/"), "/")
		if !f.m.ServePlus(w, r, segs) {
			http.NotFound(w, r)
		}
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		zone.Begin()
		status, sent := f.proxy(w, r)
		zone.End(status, r.ContentLength, sent)
	})
	f.Server = httptest.NewUnstartedServer(f.m.Conns().Wrap(mux))
	f.Config.ConnContext = f.m.Conns().ConnContext
	f.idle = make(chan struct{}, 100)
	f.Config.ConnState = func(c net.Conn, st http.ConnState) {
		f.m.Conns().ConnState(c, st)
		if st == http.StateIdle {
			f.idle <- struct{}{} // the test waits for a connection to settle
		}
	}
	f.Start()
	t.Cleanup(f.Close)
	return f
}

// proxy sends r to a server of the group, as the data path does.
func (f *front) proxy(w http.ResponseWriter, r *http.Request) (int, int64) {
	p, err := f.group.Pick(&upstream.PickRequest{})
	if err != nil {
		w.WriteHeader(502)
		return 502, 0
	}
	start := time.Now()
	var connect, header time.Duration
	trace := &httptrace.ClientTrace{
		ConnectDone:          func(string, string, error) { connect = time.Since(start) },
		GotFirstResponseByte: func() { header = time.Since(start) },
	}
	req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), "GET", "http://"+p.Addr()+r.URL.Path, nil)
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		f.group.Done(p, upstream.Outcome{Result: upstream.ConnectError})
		w.WriteHeader(502)
		return 502, 0
	}
	defer resp.Body.Close()
	w.WriteHeader(resp.StatusCode)
	n, _ := io.Copy(w, resp.Body)
	f.group.Done(p, upstream.Outcome{Result: upstream.Success, Status: resp.StatusCode})
	f.m.Peer(false, "app", p.Addr()).Observe(0, n, connect, header, time.Since(start))
	return resp.StatusCode, n
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// scrape fetches /metrics and parses it with Prometheus's text parser.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
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

// value finds the sample of family name whose labels include want.
func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, want map[string]string) (float64, *dto.Metric) {
	t.Helper()
	f := fams[name]
	if f == nil {
		t.Fatalf("no metric %s", name)
	}
next:
	for _, m := range f.Metric {
		have := map[string]string{}
		for _, l := range m.Label {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if have[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), m
		case m.Gauge != nil:
			return m.Gauge.GetValue(), m
		}
		return 0, m
	}
	t.Fatalf("no %s with labels %v", name, want)
	return 0, nil
}
