package main

import (
	"net"
	"net/http"
	"testing"

	"bunsan/internal/testutil/nginxtest"
)

// Debian's default site listens with "listen 80 default_server; listen
// [::]:80 default_server;": two sockets, IPv4 and IPv6-only. The same
// server block, with socket parameters on the IPv4 listen, starts in
// nginx and in bunsan and answers alike on 127.0.0.1 and [::1].
func TestListenIPv4AndIPv6LikeNginx(t *testing.T) {
	if ln, err := net.Listen("tcp6", "[::1]:0"); err != nil {
		t.Skip("no IPv6 loopback:", err)
	} else {
		ln.Close()
	}
	server := func(port string) string {
		return `server {
    listen ` + port + ` default_server deferred backlog=128 rcvbuf=128k so_keepalive=10m::5;
    listen [::]:` + port + ` default_server;
    location / { return 200 "$server_addr\n"; }
}`
	}
	portOf := func(addr string) string { _, p, _ := net.SplitHostPort(addr); return p }
	np, bp := portOf(nginxtest.FreeAddr(t)), portOf(freePort(t))
	nginxtest.Start(t, nginxtest.Config{HTTP: server(np), Wait: []string{"127.0.0.1:" + np, "[::1]:" + np}})
	dir := t.TempDir()
	start(t, dir, "events {}\nhttp { access_log off;\n"+server(bp)+"\n}\n")

	for _, host := range []string{"127.0.0.1", "[::1]"} {
		n := nginxtest.Get(t, http.DefaultClient, "http://"+host+":"+np+"/")
		b := nginxtest.Get(t, http.DefaultClient, "http://"+host+":"+bp+"/")
		if n != b {
			t.Errorf("%s: nginx answered %q, bunsan %q", host, n, b)
		}
	}
}
