package dashboard

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"bunsan/internal/admin"
	"bunsan/internal/config"
	"bunsan/internal/health"
	"bunsan/internal/metrics"
	"bunsan/internal/upstream"
)

// browser returns the Chromium to drive, skipping the test without one;
// BUNSAN_REQUIRE_BROWSER=1 (set where CI installs the Debian package
// "chromium") makes a missing browser a failure instead.
func browser(t *testing.T) string {
	t.Helper()
	for _, name := range []string{os.Getenv("CHROMIUM_BIN"), "chromium", "chromium-browser", "google-chrome"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("BUNSAN_REQUIRE_BROWSER") == "1" {
		t.Fatal("chromium is not installed (apt-get install chromium)")
	}
	t.Skip("chromium is not installed (apt-get install chromium)")
	return ""
}

// site is a running load balancer as the dashboard sees it: a group of
// two real backends under health checks, the upstream API and the page.
type site struct {
	*httptest.Server
	group *upstream.Group
	a, b  *httptest.Server
}

func newSite(t *testing.T) *site {
	t.Helper()
	name := func(n string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, n) })
	}
	s := &site{a: httptest.NewServer(name("a")), b: httptest.NewServer(name("b"))}
	t.Cleanup(s.a.Close)
	t.Cleanup(s.b.Close)
	spec := upstream.Spec{Name: "app", Method: upstream.RoundRobin}
	for _, b := range []*httptest.Server{s.a, s.b} {
		spec.Servers = append(spec.Servers, upstream.ServerSpec{Addr: b.Listener.Addr().String(), Weight: 1, MaxFails: 1, FailTimeout: time.Second})
	}
	g, err := upstream.NewStore(nil).Build(spec)
	if err != nil {
		t.Fatal(err)
	}
	s.group = g
	groups := func() []*upstream.Group { return []*upstream.Group{g} }
	hc := health.New(health.Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	hc.Start([]health.Target{{Group: g, Check: &config.HealthCheck{Type: config.CheckHTTP, Group: "app", URI: "/",
		Interval: 100 * time.Millisecond, Fails: 1, Passes: 1, GRPCStatus: -1, ConnectTimeout: time.Second, ReadTimeout: time.Second}}})
	t.Cleanup(hc.Stop)
	mx := metrics.New(metrics.Options{HTTP: groups, Health: hc.Metrics})

	mux := http.NewServeMux()
	mux.Handle("/dashboard/", New("/dashboard", Options{HTTP: groups, Health: hc, Stats: mx, API: "/api", Write: true}))
	mux.Handle("/api/", admin.New(&config.API{Write: true, Prefix: "/api"}, admin.Options{HTTP: groups}))
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)

	// Traffic for the charts: requests through the group, as the proxy
	// sends them, until the test ends.
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			p, err := g.Pick(&upstream.PickRequest{})
			if err != nil {
				continue
			}
			start := time.Now()
			req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+p.Addr()+"/", nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				g.Done(p, upstream.Outcome{Result: upstream.ConnectError})
				continue
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			g.Done(p, upstream.Outcome{Result: upstream.Success, Status: resp.StatusCode})
			mx.Peer(false, "app", p.Addr()).Observe(0, 1, 0, time.Since(start), time.Since(start))
		}
	}()
	return s
}

func TestDashboardInBrowser(t *testing.T) {
	bin := browser(t)
	s := newSite(t)
	a, b := s.a.Listener.Addr().String(), s.b.Listener.Addr().String()

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(bin), chromedp.NoSandbox, chromedp.WindowSize(1280, 720))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	bctx := ctx
	// Starting Chromium on a loaded machine is slow: it gets its own
	// bound, apart from the page's.
	startCtx, cancelS := context.WithTimeout(ctx, 60*time.Second)
	defer cancelS()
	if err := chromedp.Do(startCtx); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	ctx, cancelT := context.WithTimeout(ctx, 30*time.Second)
	defer cancelT()

	var mu sync.Mutex
	var problems []string
	problem := func(msg string) {
		mu.Lock()
		problems = append(problems, msg)
		mu.Unlock()
	}
	go func() {
		for ev, err := range chromedp.Events(ctx, runtime.ExceptionThrown) {
			if err != nil {
				return
			}
			problem(fmt.Sprintf("exception: %s", ev.ExceptionDetails.Text))
		}
	}()
	go func() {
		for ev, err := range chromedp.Events(ctx, runtime.ConsoleAPICalled) {
			if err != nil {
				return
			}
			if string(ev.Type) == "error" {
				problem(fmt.Sprintf("console.error %v", ev.Args))
			}
		}
	}()
	go func() {
		// The confirmation before a change: accept it.
		for _, err := range chromedp.Events(ctx, page.JavascriptDialogOpening) {
			if err != nil {
				return
			}
			if _, err := chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true}); err != nil {
				problem(fmt.Sprintf("accepting the dialog: %v", err))
			}
		}
	}()
	row := func(addr, state string) chromedp.CSS {
		return chromedp.CSS(fmt.Sprintf(`tr[data-server=%q][data-state=%q]`, addr, state))
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate(s.URL+"/dashboard/"),
		chromedp.WaitVisible(row(a, "up")),
		chromedp.WaitVisible(row(b, "up")),
	); err != nil {
		text, _ := chromedp.Run(bctx, chromedp.Evaluate[string](`document.body.innerText`))
		t.Fatalf("page did not show both servers up: %v\n%s\nproblems %q", err, text, problems)
	}

	// Kill b: its health checks fail and the page shows it.
	s.b.CloseClientConnections()
	s.b.Listener.Close()
	if err := chromedp.Do(ctx, chromedp.WaitVisible(row(b, "unhealthy"))); err != nil {
		t.Fatalf("page did not show the killed server: %v", err)
	}

	if path := os.Getenv("BUNSAN_SCREENSHOT"); path != "" {
		// For the README picture only: let the charts gather a few
		// seconds of samples first.
		if err := chromedp.Do(bctx, chromedp.Sleep(8*time.Second)); err != nil {
			t.Fatal(err)
		}
		png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// Drain a with its button: the click goes through the API.
	if err := chromedp.Do(ctx,
		chromedp.Click(row(a, "up")+` button.drain`),
		chromedp.WaitVisible(row(a, "draining")),
	); err != nil {
		text, _ := chromedp.Run(bctx, chromedp.Evaluate[string](`document.body.innerText`))
		t.Fatalf("drain: %v\n%s\nproblems %q", err, text, problems)
	}
	if !s.group.Peer(a).Draining() {
		t.Error("the page shows draining but the group is not")
	}

	// On a phone the page fits the screen: no sideways scrolling.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844), chromedp.WaitVisible(row(a, "draining"))); err != nil {
		t.Fatal(err)
	}
	overflow, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`))
	if err != nil {
		t.Fatal(err)
	}
	if overflow {
		t.Error("the page scrolls sideways on a phone-sized screen")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(problems) > 0 {
		t.Errorf("console errors: %s", strings.Join(problems, "\n"))
	}
}

// status.json carries what the page draws.
func TestStatusJSON(t *testing.T) {
	s := newSite(t)
	resp, err := http.Get(s.URL + "/dashboard/status.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, want := range []string{`"api":"/api"`, `"write":true`, `"name":"app"`, `"protocol":"http"`, `"server":"` + s.a.Listener.Addr().String() + `"`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("status.json lacks %s: %s", want, body)
		}
	}
	for _, p := range []string{"/dashboard/", "/dashboard/app.js", "/dashboard/app.css"} {
		resp, err := http.Get(s.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || len(b) == 0 || strings.Contains(string(b), "http://") || strings.Contains(string(b), "https://") {
			t.Errorf("%s: %d, %d bytes (assets must be local, no CDN)", p, resp.StatusCode, len(b))
		}
	}
}

func TestAPIOf(t *testing.T) {
	dir := t.TempDir()
	file := dir + "/bunsan.conf"
	os.WriteFile(file, []byte(`http {
  upstream app { server 127.0.0.1:1; }
  server { listen 127.0.0.1:8080;
    location /dash/ { dashboard; }
    location /api { api write=on; }
  }
}`), 0o644)
	m, _, err := config.Load(config.Options{Prefix: dir + "/", File: file})
	if err != nil {
		t.Fatal(err)
	}
	if path, write := APIOf(m); path != "/api" || !write {
		t.Errorf("APIOf = %q %v", path, write)
	}
	if path, _ := APIOf(nil); path != "" {
		t.Errorf("APIOf(nil) = %q", path)
	}
}
