package stream

import (
	"fmt"
	"net"
	"sort"
	"strings"
	"testing"
	"time"
)

const udpKey = "udp 127.0.0.1:1"

// udpAsk sends msg from c and returns the answer, or "" on timeout.
func udpAsk(t *testing.T, c *net.UDPConn, msg string, wait time.Duration) string {
	t.Helper()
	if _, err := c.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(wait))
	buf := make([]byte, 2048)
	n, err := c.Read(buf)
	if err != nil {
		return ""
	}
	return string(buf[:n])
}

func udpClient(t *testing.T, r *rig) *net.UDPConn {
	t.Helper()
	ra, _ := net.ResolveUDPAddr("udp", r.addrs[udpKey])
	c, err := net.DialUDP("udp", nil, ra)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestUDP(t *testing.T) {
	a, b := udpEcho(t, "a"), udpEcho(t, "b")
	r := startRig(t, fmt.Sprintf(`stream {
    log_format f '$protocol $status $bytes_received $bytes_sent $upstream_addr';
    upstream dns { server %s; server %s; }
    server { listen 127.0.0.1:1 udp; proxy_pass dns; proxy_responses 1; proxy_timeout 5s; access_log {{dir}}/u.log f; }
}`, a, b))
	// proxy_responses 1: each request is its own session, so one client
	// walks the round-robin.
	c := udpClient(t, r)
	var got []string
	for i := range 4 {
		got = append(got, udpAsk(t, c, fmt.Sprint("q", i), testTimeout))
	}
	if strings.Join(got, ",") != "a:q0,b:q1,a:q2,b:q3" {
		t.Errorf("answers %q", got)
	}
	// Lines come as sessions end, in any order.
	lines := waitFile(t, r.dir+"/u.log", 4)
	sort.Strings(lines)
	want := []string{"UDP 200 2 4 " + a, "UDP 200 2 4 " + a, "UDP 200 2 4 " + b, "UDP 200 2 4 " + b}
	sort.Strings(want)
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("log %q, want %q", lines, want)
	}
}

func TestUDPSessionStaysBound(t *testing.T) {
	a, b := udpEcho(t, "a"), udpEcho(t, "b")
	r := startRig(t, fmt.Sprintf(`stream {
    upstream dns { server %s; server %s; }
    server { listen 127.0.0.1:1 udp; proxy_pass dns; proxy_timeout 10s; }
}`, a, b))
	// Without proxy_responses the session lasts until proxy_timeout: a
	// client stays with its backend; another client gets the next one.
	c1, c2 := udpClient(t, r), udpClient(t, r)
	for i := range 3 {
		if got := udpAsk(t, c1, fmt.Sprint(i), testTimeout); got != fmt.Sprint("a:", i) {
			t.Errorf("client 1: %q", got)
		}
	}
	if got := udpAsk(t, c2, "x", testTimeout); got != "b:x" {
		t.Errorf("client 2: %q", got)
	}
}

func TestUDPRequestsAndTimeout(t *testing.T) {
	a, b := udpEcho(t, "a"), udpEcho(t, "b")
	r := startRig(t, fmt.Sprintf(`stream {
    upstream dns { server %s; server %s; }
    server { listen 127.0.0.1:1 udp; proxy_pass dns; proxy_requests 2; proxy_timeout 10s; }
    server { listen 127.0.0.1:2 udp; proxy_pass dns; proxy_timeout 100ms; }
}`, a, b))
	c := udpClient(t, r)
	var got []string
	for i := range 4 {
		got = append(got, udpAsk(t, c, fmt.Sprint(i), testTimeout))
	}
	// Two requests per session, then the next session takes the next server.
	if strings.Join(got, ",") != "a:0,a:1,b:2,b:3" {
		t.Errorf("proxy_requests 2: %q", got)
	}
}

func TestUDPIdleTimeoutEndsSession(t *testing.T) {
	a, b := udpEcho(t, "a"), udpEcho(t, "b")
	r := startRig(t, fmt.Sprintf(`stream {
    upstream dns { server %s; server %s; }
    server { listen 127.0.0.1:1 udp; proxy_pass dns; proxy_timeout 100ms; }
}`, a, b))
	c := udpClient(t, r)
	if got := udpAsk(t, c, "0", testTimeout); got != "a:0" {
		t.Fatalf("first: %q", got)
	}
	// The session stays with a until it has been idle for 100ms; the
	// session after it goes to b. Ask until it does (bounded).
	deadline := time.Now().Add(testTimeout)
	for got := ""; got != "b:x"; {
		if time.Now().After(deadline) {
			t.Fatal("the session never timed out")
		}
		time.Sleep(200 * time.Millisecond) // stay quiet longer than proxy_timeout
		got = udpAsk(t, c, "x", testTimeout)
		if got != "a:x" && got != "b:x" {
			t.Fatalf("answer %q", got)
		}
	}
}

func TestUDPSessionTableBounded(t *testing.T) {
	a := udpEcho(t, "a")
	r := startRigWith(t, fmt.Sprintf(`stream { server { listen 127.0.0.1:1 udp; proxy_pass %s; proxy_timeout 10s; } }`, a),
		func(p *Proxy) { p.udpSessions = 2 })
	c1, c2, c3 := udpClient(t, r), udpClient(t, r), udpClient(t, r)
	if udpAsk(t, c1, "1", testTimeout) != "a:1" || udpAsk(t, c2, "2", testTimeout) != "a:2" {
		t.Fatal("the first two clients got no session")
	}
	// The table is full: the third client's datagram is dropped (a
	// short wait suffices to see no answer; a late answer would fail
	// the next check anyway).
	if got := udpAsk(t, c3, "3", 200*time.Millisecond); got != "" {
		t.Errorf("third client answered %q with a full table", got)
	}
	// Bound clients keep being served.
	if got := udpAsk(t, c1, "again", testTimeout); got != "a:again" {
		t.Errorf("bound client: %q", got)
	}
}
