package nginxtest

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func TestStartProxiesToBackends(t *testing.T) {
	bs := StartBackends(t, 2)
	addr := FreeAddr(t)
	Start(t, Config{
		HTTP: fmt.Sprintf(`
    upstream u { server %s; server %s; }
    server { listen %s; location / { proxy_pass http://u; } }`, bs[0].Addr, bs[1].Addr, addr),
		Wait: []string{addr},
	})
	c := &http.Client{}
	seen := map[string]bool{}
	for range 4 {
		seen[Get(t, c, "http://"+addr+"/")] = true
	}
	if !seen["b0"] || !seen["b1"] {
		t.Errorf("round-robin over two backends saw %v", seen)
	}
	if v := Version(t); !strings.HasPrefix(v, "nginx/") {
		t.Errorf("version %q", v)
	}
}

func TestStream(t *testing.T) {
	bs := StartBackends(t, 1)
	addr := FreeAddr(t)
	Start(t, Config{
		Stream: fmt.Sprintf("    server { listen %s; proxy_pass %s; }", addr, bs[0].Addr),
		Wait:   []string{addr},
	})
	if got := Get(t, &http.Client{}, "http://"+addr+"/"); got != "b0" {
		t.Errorf("through stream proxy: %q", got)
	}
}
