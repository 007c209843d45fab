package stream

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"bunsan/internal/testutil/nginxtest"
)

// These tests run one stream configuration through real nginx and through
// bunsan, and require the same backend for every connection, where nginx
// defines the answer: round-robin with weights, hashing of the client
// address (plain and consistent), random with one server left, and
// failover when a server refuses.

// nameFrom connects from a chosen loopback source address (so that
// hashing sees many clients) and returns the backend's first line.
func nameFrom(t *testing.T, src, addr string) string {
	t.Helper()
	d := net.Dialer{Timeout: testTimeout}
	if src != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(src)}
	}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial %s from %s: %v", addr, src, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(testTimeout))
	line, _ := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSuffix(line, "\n")
}

func TestNginxDifferential(t *testing.T) {
	nginxtest.Binary(t) // skips without nginx
	bs := []*nameBackend{startBackend(t, "a"), startBackend(t, "b"), startBackend(t, "c"), startBackend(t, "d")}
	dead := refusing(t)
	var clients []string
	for i := 2; i < 42; i++ {
		clients = append(clients, fmt.Sprintf("127.0.%d.%d", i%7, i))
	}
	sequential := make([]string, 12) // all from 127.0.0.1
	tests := []struct {
		name     string
		upstream string
		from     []string
		extra    string // in the server block
	}{
		{"weighted round-robin", fmt.Sprintf("server %s weight=3; server %s; server %s weight=2;", bs[0].addr, bs[1].addr, bs[2].addr), sequential, ""},
		{"hash remote_addr", fmt.Sprintf("hash $remote_addr; server %s; server %s weight=2; server %s; server %s;", bs[0].addr, bs[1].addr, bs[2].addr, bs[3].addr), clients, ""},
		{"hash remote_addr consistent", fmt.Sprintf("hash $remote_addr consistent; server %s; server %s; server %s weight=3; server %s;", bs[0].addr, bs[1].addr, bs[2].addr, bs[3].addr), clients, ""},
		{"failover to the next", fmt.Sprintf("server %s; server %s; server %s;", dead, bs[0].addr, bs[1].addr), sequential, ""},
		{"hash with a refusing server", fmt.Sprintf("hash $remote_addr; server %s; server %s; server %s;", bs[0].addr, dead, bs[1].addr), clients, ""},
		{"backup after failure", fmt.Sprintf("server %s; server %s backup;", dead, bs[3].addr), sequential[:4], ""},
		{"next upstream off", fmt.Sprintf("server %s; server %s; server %s;", bs[0].addr, dead, bs[1].addr), sequential, "proxy_next_upstream off;"},
		{"next upstream tries 2", fmt.Sprintf("server %s max_fails=0; server %s max_fails=0; server %s;", dead, refusing(t), bs[2].addr), sequential, "proxy_next_upstream_tries 2;"},
		{"max_fails 2", fmt.Sprintf("server %s max_fails=2; server %s; server %s;", dead, bs[0].addr, bs[1].addr), sequential, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := fmt.Sprintf("upstream u { %s }\n    server { listen %%s; proxy_pass u; proxy_connect_timeout 5s; %s }", tt.upstream, tt.extra)
			naddr := nginxtest.FreeAddr(t)
			// No Wait probe: a probe connection would take a pick (or,
			// under load, two). The master binds before it starts the
			// worker, so once the worker is started connections queue.
			ng := nginxtest.Start(t, nginxtest.Config{Stream: fmt.Sprintf(body, naddr)})
			waitWorker(t, ng)
			r := startRig(t, "stream {\n    "+fmt.Sprintf(body, "127.0.0.1:1")+"\n}")
			var want, got []string
			for _, src := range tt.from {
				want = append(want, nameFrom(t, src, naddr))
				got = append(got, nameFrom(t, src, r.addrs[key1]))
			}
			ng.Stop()
			t.Logf("nginx: %v", want)
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("backends differ\nnginx:  %v\nbunsan: %v", want, got)
			}
		})
	}
}

// waitWorker waits until nginx says it started its worker.
func waitWorker(t *testing.T, ng *nginxtest.Server) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for !strings.Contains(ng.Stderr(), "start worker process") {
		if time.Now().After(deadline) {
			t.Fatalf("nginx did not start a worker:\n%s", ng.Stderr())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestNginxProxyProtocolBytes: the PROXY v1 line that nginx's
// "proxy_protocol on" sends and the one bunsan sends are the same text,
// byte for byte, given each one's client and listening ports.
func TestNginxProxyProtocolBytes(t *testing.T) {
	nginxtest.Binary(t)
	addr, conns := rawBackend(t)
	naddr := nginxtest.FreeAddr(t)
	body := "server { listen %s; proxy_pass " + addr + "; proxy_protocol on; }"
	ng := nginxtest.Start(t, nginxtest.Config{Stream: fmt.Sprintf(body, naddr)})
	waitWorker(t, ng)
	r := startRig(t, "stream { "+fmt.Sprintf(body, "127.0.0.1:1")+" }")
	line := func(proxyAddr string) (string, string) {
		c, err := net.DialTimeout("tcp", proxyAddr, testTimeout)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		io.WriteString(c, "payload")
		b := accept(t, conns)
		defer b.Close()
		got := make([]byte, 0, 128)
		buf := make([]byte, 128)
		for !strings.HasSuffix(string(got), "payload") {
			n, err := b.Read(buf)
			if err != nil {
				t.Fatalf("backend: %v after %q", err, got)
			}
			got = append(got, buf[:n]...)
		}
		cl, sv := c.LocalAddr().(*net.TCPAddr), c.RemoteAddr().(*net.TCPAddr)
		return string(got), fmt.Sprintf("PROXY TCP4 127.0.0.1 127.0.0.1 %d %d\r\npayload", cl.Port, sv.Port)
	}
	for _, p := range []struct{ who, addr string }{{"nginx", naddr}, {"bunsan", r.addrs[key1]}} {
		if got, want := line(p.addr); got != want {
			t.Errorf("%s sent %q, want %q", p.who, got, want)
		}
	}
}

// TestNginxUDP: with proxy_responses 1 each datagram is a session, so one
// client walks the weighted round-robin; nginx and bunsan must agree.
func TestNginxUDP(t *testing.T) {
	nginxtest.Binary(t)
	a, b := udpEcho(t, "a"), udpEcho(t, "b")
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	naddr := pc.LocalAddr().String()
	pc.Close()
	body := fmt.Sprintf("upstream dns { server %s weight=2; server %s; }\n    server { listen %%s udp; proxy_pass dns; proxy_responses 1; proxy_timeout 5s; }", a, b)
	ng := nginxtest.Start(t, nginxtest.Config{Stream: fmt.Sprintf(body, naddr)})
	waitWorker(t, ng)
	r := startRig(t, "stream {\n    "+fmt.Sprintf(body, "127.0.0.1:1")+"\n}")
	answers := func(addr string) string {
		ra, _ := net.ResolveUDPAddr("udp", addr)
		c, err := net.DialUDP("udp", nil, ra)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		var got []string
		for i := range 6 {
			got = append(got, udpAsk(t, c, fmt.Sprint(i), testTimeout))
		}
		return strings.Join(got, " ")
	}
	want, got := answers(naddr), answers(r.addrs[udpKey])
	t.Logf("nginx: %s", want)
	if got != want {
		t.Errorf("nginx:  %s\nbunsan: %s", want, got)
	}
}

// TestNginxUDPSessionBinding: without proxy_responses a client's
// datagrams stay in one session (one backend) until proxy_timeout; a
// second client starts the next session.
func TestNginxUDPSessionBinding(t *testing.T) {
	nginxtest.Binary(t)
	a, b := udpEcho(t, "a"), udpEcho(t, "b")
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	naddr := pc.LocalAddr().String()
	pc.Close()
	body := fmt.Sprintf("upstream dns { server %s; server %s; }\n    server { listen %%s udp; proxy_pass dns; proxy_timeout 10s; }", a, b)
	ng := nginxtest.Start(t, nginxtest.Config{Stream: fmt.Sprintf(body, naddr)})
	waitWorker(t, ng)
	r := startRig(t, "stream {\n    "+fmt.Sprintf(body, "127.0.0.1:1")+"\n}")
	answers := func(addr string) string {
		ra, _ := net.ResolveUDPAddr("udp", addr)
		var cs []*net.UDPConn
		for range 2 {
			c, err := net.DialUDP("udp", nil, ra)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			cs = append(cs, c)
		}
		var got []string
		for i, who := range []int{0, 0, 1, 0, 1} {
			got = append(got, udpAsk(t, cs[who], fmt.Sprint(i), testTimeout))
		}
		return strings.Join(got, " ")
	}
	want, got := answers(naddr), answers(r.addrs[udpKey])
	t.Logf("nginx: %s", want)
	if got != want {
		t.Errorf("nginx:  %s\nbunsan: %s", want, got)
	}
}

// TestNginxUDPRefused: a UDP server that answers with ICMP port
// unreachable loses the first datagram and is then disabled
// (max_fails=1), in nginx and in bunsan alike.
func TestNginxUDPRefused(t *testing.T) {
	nginxtest.Binary(t)
	a := udpEcho(t, "a")
	free := func() string {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer pc.Close()
		return pc.LocalAddr().String()
	}
	dead, naddr := free(), free()
	body := fmt.Sprintf("upstream dns { server %s; server %s; }\n    server { listen %%s udp; proxy_pass dns; proxy_responses 1; proxy_timeout 5s; }", dead, a)
	ng := nginxtest.Start(t, nginxtest.Config{Stream: fmt.Sprintf(body, naddr)})
	waitWorker(t, ng)
	r := startRig(t, "stream {\n    "+fmt.Sprintf(body, "127.0.0.1:1")+"\n}")
	answers := func(addr string) string {
		ra, _ := net.ResolveUDPAddr("udp", addr)
		c, err := net.DialUDP("udp", nil, ra)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		var got []string
		for i := range 4 {
			// The lost datagram gets no answer: wait long enough that a
			// late one would still show, then move on.
			got = append(got, udpAsk(t, c, fmt.Sprint(i), 2*time.Second))
		}
		return strings.Join(got, " ")
	}
	want, got := answers(naddr), answers(r.addrs[udpKey])
	t.Logf("nginx: %q", want)
	if got != want {
		t.Errorf("nginx:  %q\nbunsan: %q", want, got)
	}
}
