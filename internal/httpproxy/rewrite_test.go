package httpproxy

import (
	"net/http"
	"testing"
)

// TestIf covers the safe uses of if: conditions on the method, on an
// empty header, on a regex with captures, with set and return inside.
func TestIf(t *testing.T) {
	be := newBackend(t, "b", nil)
	p := startProxy(t, `http { server { listen LISTEN;
		if ($http_x_block) { return 403; }
		location / {
			set $mode normal;
			if ($request_method = POST) { return 405; }
			if ($http_x_token = "") { set $mode anonymous; }
			if ($arg_v ~* ^v(\d+)$) { set $mode "version-$1"; }
			if ($mode != normal) { return 200 "$mode"; }
			proxy_pass http://`+be.addr+`;
		}
	} }`)
	tests := []struct {
		method, path string
		hdr          []string
		code         int
		body         string
	}{
		{"GET", "/", []string{"X-Token", "t"}, 200, "b /"},
		{"GET", "/", nil, 200, "anonymous"},
		{"GET", "/?v=V7", []string{"X-Token", "t"}, 200, "version-7"},
		{"POST", "/", nil, 405, ""},
		{"GET", "/", []string{"X-Block", "1"}, 403, ""},
		{"GET", "/", []string{"X-Block", "0", "X-Token", "t"}, 200, "b /"},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(tt.method, p.url(tt.path), nil)
		for i := 0; i+1 < len(tt.hdr); i += 2 {
			req.Header.Set(tt.hdr[i], tt.hdr[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body := readAll(resp)
		if resp.StatusCode != tt.code || (tt.body != "" && body != tt.body) {
			t.Errorf("%s %s %v: %d %q, want %d %q", tt.method, tt.path, tt.hdr, resp.StatusCode, body, tt.code, tt.body)
		}
	}
}

func readAll(resp *http.Response) string {
	defer resp.Body.Close()
	b := make([]byte, 0, 512)
	buf := make([]byte, 512)
	for {
		n, err := resp.Body.Read(buf)
		b = append(b, buf[:n]...)
		if err != nil {
			return string(b)
		}
	}
}

// TestServerLevelReturn: a return in the server block answers before any
// location is chosen, even where a location would match, as in nginx.
func TestServerLevelReturn(t *testing.T) {
	be := newBackend(t, "b", nil)
	p := startProxy(t, `http { server { listen LISTEN;
		set $target https://secure.test;
		return 301 $target$request_uri;
		location / { proxy_pass http://`+be.addr+`; }
	} }`)
	resp, _ := httpGet(t, p.url("/x?y=1"))
	if resp.StatusCode != 301 || resp.Header.Get("Location") != "https://secure.test/x?y=1" {
		t.Errorf("%d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if be.count() != 0 {
		t.Errorf("the location was used")
	}
}
