package stream

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
)

const key1 = "tcp 127.0.0.1:1"

func TestBalancingMethods(t *testing.T) {
	a, b, c := startBackend(t, "a"), startBackend(t, "b"), startBackend(t, "c")
	tests := []struct {
		name   string
		method string
		params [3]string
		n      int
		want   map[string]int
	}{
		{"round-robin weights", "", [3]string{"weight=2", "", "down"}, 6, map[string]int{"a": 4, "b": 2}},
		// Connections are held open: each one counts against its server.
		{"least_conn", "least_conn;", [3]string{"weight=2", "", ""}, 4, map[string]int{"a": 2, "b": 1, "c": 1}},
		// Every connection comes from 127.0.0.1: one server for all.
		{"hash remote_addr", "hash $remote_addr;", [3]string{}, 5, nil},
		{"hash consistent", "hash $remote_addr consistent;", [3]string{}, 5, nil},
		{"ip_hash", "ip_hash;", [3]string{}, 5, nil},
		{"random", "random;", [3]string{"", "down", "down"}, 4, map[string]int{"a": 4}},
		{"random two", "random two least_conn;", [3]string{"", "", "down"}, 4, nil},
		{"backup", "", [3]string{"down", "backup", ""}, 4, map[string]int{"c": 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := startRig(t, fmt.Sprintf(`stream {
    upstream u { %s server %s %s; server %s %s; server %s %s; }
    server { listen 127.0.0.1:1; proxy_pass u; }
}`, tt.method, a.addr, tt.params[0], b.addr, tt.params[1], c.addr, tt.params[2]))
			got := map[string]int{}
			for range tt.n {
				c := r.dial(t, key1) // closed at the end of the subtest
				got[firstLine(t, c)]++
			}
			if tt.want == nil {
				if len(got) != 1 && !strings.HasPrefix(tt.method, "random two") {
					t.Errorf("hashing one client spread over %v", got)
				}
				if got[""] > 0 {
					t.Errorf("connections failed: %v", got)
				}
				return
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestFailover(t *testing.T) {
	live := startBackend(t, "live")
	dead := refusing(t)
	tests := []struct {
		name  string
		extra string
		want  []string // names of successive connections
	}{
		// The dead server fails, the live one answers; with max_fails=1
		// the dead one is then skipped for fail_timeout.
		{"next upstream on", "", []string{"live", "live", "live"}},
		{"next upstream off", "proxy_next_upstream off;", []string{"", "live", "live"}},
		{"tries 1", "proxy_next_upstream_tries 1;", []string{"", "live", "live"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := startRig(t, fmt.Sprintf(`stream {
    upstream u { server %s; server %s; }
    server { listen 127.0.0.1:1; proxy_pass u; %s }
}`, dead, live.addr, tt.extra))
			for i, want := range tt.want {
				if got := readName(t, r, key1); got != want {
					t.Errorf("connection %d reached %q, want %q", i, got, want)
				}
			}
		})
	}
}

func TestStatusesInAccessLog(t *testing.T) {
	live := startBackend(t, "live")
	dead := refusing(t)
	r := startRig(t, fmt.Sprintf(`stream {
    log_format f '$status $protocol $upstream_addr $bytes_received $bytes_sent';
    access_log {{dir}}/s.log f;
    limit_conn_zone $binary_remote_addr zone=z:1m;
    upstream u { server %[1]s; server %[2]s; }
    server { listen 127.0.0.1:1; proxy_pass u; }
    server { listen 127.0.0.1:2; proxy_pass %[2]s; }
    server { listen 127.0.0.1:3; proxy_pass u; deny 127.0.0.1; }
    server { listen 127.0.0.1:4; proxy_pass %[1]s; }
}`, live.addr, dead))
	c := r.dial(t, key1)
	if got := firstLine(t, c); got != "live" {
		t.Fatalf("got %q", got)
	}
	io.WriteString(c, "ping\n")
	br := bufio.NewReader(c)
	br.ReadString('\n')
	c.CloseWrite()
	io.ReadAll(br)
	c.Close()
	waitFile(t, r.dir+"/s.log", 1)
	for _, k := range []string{"tcp 127.0.0.1:2", "tcp 127.0.0.1:3"} {
		if got := readName(t, r, k); got != "" {
			t.Errorf("%s: reached %q", k, got)
		}
		waitFile(t, r.dir+"/s.log", 2)
	}
	lines := waitFile(t, r.dir+"/s.log", 3)
	want := []string{
		// "live\n" + "ping\n": the client's FIN ends the session
		// (proxy_half_close off), so "bye live\n" is not relayed.
		fmt.Sprintf("200 TCP %s 5 10", live.addr),
		fmt.Sprintf("502 TCP %s 0 0", dead),
		"403 TCP  0 0",
	}
	for i, w := range want {
		if lines[i] != w {
			t.Errorf("line %d: %q, want %q", i, lines[i], w)
		}
	}
}

func TestHalfClose(t *testing.T) {
	addr, conns := rawBackend(t)
	t.Run("on: the backend answers after the client's FIN", func(t *testing.T) {
		r := startRig(t, fmt.Sprintf(`stream { server { listen 127.0.0.1:1; proxy_pass %s; proxy_half_close on; } }`, addr))
		c := r.dial(t, key1)
		io.WriteString(c, "question")
		c.CloseWrite()
		b := accept(t, conns)
		got, _ := io.ReadAll(b) // ends at the forwarded FIN
		if string(got) != "question" {
			t.Fatalf("backend read %q", got)
		}
		io.WriteString(b, "answer")
		b.Close()
		reply, err := io.ReadAll(c)
		if err != nil || string(reply) != "answer" {
			t.Errorf("client read %q, %v", reply, err)
		}
	})
	t.Run("off: a client that leaves frees the backend at once", func(t *testing.T) {
		r := startRig(t, fmt.Sprintf(`stream { server { listen 127.0.0.1:1; proxy_pass %s; } }`, addr))
		c := r.dial(t, key1)
		io.WriteString(c, "x")
		b := accept(t, conns)
		buf := make([]byte, 1)
		io.ReadFull(b, buf)
		c.Close()
		// The backend sees its connection end without writing anything.
		if _, err := b.Read(buf); err == nil {
			t.Errorf("backend connection still open")
		}
	})
}

func TestIdleTimeout(t *testing.T) {
	addr, conns := rawBackend(t)
	r := startRig(t, fmt.Sprintf(`stream { server { listen 127.0.0.1:1; proxy_pass %s; proxy_timeout 300ms; } }`, addr))
	t.Run("idle both ways: closed", func(t *testing.T) {
		c := r.dial(t, key1)
		b := accept(t, conns)
		if _, err := io.ReadAll(c); err != nil {
			t.Errorf("client: %v", err)
		}
		if _, err := b.Read(make([]byte, 1)); err == nil {
			t.Errorf("backend connection still open")
		}
	})
	t.Run("one-way traffic keeps the session", func(t *testing.T) {
		// A longer timeout here, so that a loaded test machine pausing
		// the writer cannot look like idleness.
		r := startRig(t, fmt.Sprintf(`stream { server { listen 127.0.0.1:1; proxy_pass %s; proxy_timeout 1s; } }`, addr))
		c := r.dial(t, key1)
		b := accept(t, conns)
		// The client never writes; the backend writes small pieces
		// back to back for several timeouts' worth of time. The
		// client->backend direction is idle throughout, yet the session
		// must live: the other direction moves.
		go func() {
			for end := time.Now().Add(2500 * time.Millisecond); time.Now().Before(end); {
				if _, err := b.Write([]byte{'x'}); err != nil {
					return
				}
				time.Sleep(time.Millisecond)
			}
			io.WriteString(b, "END")
			b.Close()
		}()
		got, err := io.ReadAll(c)
		if !strings.HasSuffix(string(got), "END") {
			t.Errorf("session ended after %d bytes without END: %v", len(got), err)
		}
	})
}

func TestProxyProtocol(t *testing.T) {
	addr, conns := rawBackend(t)
	r := startRig(t, fmt.Sprintf(`stream {
    server { listen 127.0.0.1:1; proxy_pass %[1]s; proxy_protocol on; }
    server { listen 127.0.0.1:2 proxy_protocol; set_real_ip_from 127.0.0.0/8; proxy_pass %[1]s; proxy_protocol on; }
    server { listen 127.0.0.1:3 proxy_protocol; set_real_ip_from 10.0.0.0/8; proxy_pass %[1]s; proxy_protocol on; }
    server { listen 127.0.0.1:4 proxy_protocol; set_real_ip_from 127.0.0.1; deny 203.0.113.0/24; proxy_pass %[1]s; }
}`, addr))
	readHeader := func(b net.Conn, extra int) string {
		t.Helper()
		br := bufio.NewReader(b)
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("backend: %v", err)
		}
		rest := make([]byte, extra)
		io.ReadFull(br, rest)
		return line + string(rest)
	}
	t.Run("send v2", func(t *testing.T) {
		r2 := startRig(t, fmt.Sprintf(`stream { server { listen 127.0.0.1:1; proxy_pass %s; proxy_protocol on; proxy_protocol_version 2; } }`, addr))
		c := r2.dial(t, key1)
		io.WriteString(c, "data")
		want := appendProxyV2(nil, mustAP(c.LocalAddr().String()), mustAP(c.RemoteAddr().String()))
		want = append(want, "data"...)
		b := accept(t, conns)
		got := make([]byte, len(want))
		if _, err := io.ReadFull(b, got); err != nil || string(got) != string(want) {
			t.Errorf("backend got % x, %v; want % x", got, err, want)
		}
	})
	t.Run("send v1", func(t *testing.T) {
		c := r.dial(t, key1)
		io.WriteString(c, "data")
		cl, sv := c.LocalAddr().(*net.TCPAddr), c.RemoteAddr().(*net.TCPAddr)
		want := fmt.Sprintf("PROXY TCP4 127.0.0.1 127.0.0.1 %d %d\r\ndata", cl.Port, sv.Port)
		if got := readHeader(accept(t, conns), 4); got != want {
			t.Errorf("backend got %q, want %q", got, want)
		}
	})
	front := func(hdr []byte, payload string) func(t *testing.T, key string) *net.TCPConn {
		return func(t *testing.T, key string) *net.TCPConn {
			c := r.dial(t, key)
			c.Write(append(hdr, payload...))
			return c
		}
	}
	v2 := appendProxyV2(nil, mustAP("203.0.113.7:4000"), mustAP("198.51.100.1:443"))
	v1 := []byte("PROXY TCP4 192.0.2.9 198.51.100.1 5000 443\r\n")
	t.Run("accept v2 from a trusted front", func(t *testing.T) {
		front(v2, "hi")(t, "tcp 127.0.0.1:2")
		if got, want := readHeader(accept(t, conns), 2), "PROXY TCP4 203.0.113.7 "; !strings.HasPrefix(got, want) || !strings.HasSuffix(got, " 4000 "+portOf(r.addrs["tcp 127.0.0.1:2"])+"\r\nhi") {
			t.Errorf("backend got %q", got)
		}
	})
	t.Run("accept v1 from a trusted front", func(t *testing.T) {
		front(v1, "hi")(t, "tcp 127.0.0.1:2")
		if got := readHeader(accept(t, conns), 2); !strings.HasPrefix(got, "PROXY TCP4 192.0.2.9 127.0.0.1 5000 ") {
			t.Errorf("backend got %q", got)
		}
	})
	t.Run("untrusted front keeps the peer address", func(t *testing.T) {
		front(v1, "hi")(t, "tcp 127.0.0.1:3")
		if got := readHeader(accept(t, conns), 2); !strings.HasPrefix(got, "PROXY TCP4 127.0.0.1 127.0.0.1 ") {
			t.Errorf("backend got %q", got)
		}
	})
	t.Run("deny applies to the real address", func(t *testing.T) {
		c := front(v2, "hi")(t, "tcp 127.0.0.1:4")
		if b, _ := io.ReadAll(c); len(b) != 0 {
			t.Errorf("denied client read %q", b)
		}
	})
	t.Run("broken header closes", func(t *testing.T) {
		c := front([]byte("GET / HTTP/1.0\r\n\r\n"), "")(t, "tcp 127.0.0.1:4")
		if b, _ := io.ReadAll(c); len(b) != 0 {
			t.Errorf("read %q", b)
		}
	})
}

func TestLimitConnAndMaxConns(t *testing.T) {
	a := startBackend(t, "a")
	r := startRig(t, fmt.Sprintf(`stream {
    limit_conn_zone $binary_remote_addr zone=per_ip:1m;
    upstream one { server %[1]s max_conns=1; }
    server { listen 127.0.0.1:1; proxy_pass %[1]s; limit_conn per_ip 1; }
    server { listen 127.0.0.1:2; proxy_pass one; }
}`, a.addr))
	for _, key := range []string{key1, "tcp 127.0.0.1:2"} {
		first := r.dial(t, key)
		if got := firstLine(t, first); got != "a" {
			t.Fatalf("%s: first connection got %q", key, got)
		}
		if got := readName(t, r, key); got != "" {
			t.Errorf("%s: second connection reached %q while the first is open", key, got)
		}
		first.Close()
		// The slot is given back when the session ends; the next
		// connection gets through once it has.
		var got string
		for i := 0; i < 200 && got == ""; i++ {
			got = readName(t, r, key)
		}
		if got != "a" {
			t.Errorf("%s: after the first closed, got %q", key, got)
		}
	}
}

func TestStateKeptAcrossReload(t *testing.T) {
	live := startBackend(t, "live")
	dead := refusing(t)
	conf := fmt.Sprintf(`stream {
    log_format f '$upstream_addr';
    upstream u { server %s max_fails=1 fail_timeout=1h; server %s; }
    server { listen 127.0.0.1:1; proxy_pass u; access_log {{dir}}/s.log f; }
}`, dead, live.addr)
	r := startRig(t, conf)
	if got := readName(t, r, key1); got != "live" {
		t.Fatalf("got %q", got)
	}
	r.reload(t, conf)
	for range 3 {
		if got := readName(t, r, key1); got != "live" {
			t.Fatalf("got %q", got)
		}
	}
	// The reload wrote its log elsewhere ({{dir}} is new per load), so
	// read the first load's log: the dead server was tried once.
	lines := waitFile(t, r.dir+"/s.log", 1)
	if lines[0] != dead+", "+live.addr {
		t.Errorf("first session tried %q", lines[0])
	}
	g := r.p.current.Load().groups["u"]
	if p := g.Peer(dead); p == nil || p.Active() != 0 {
		t.Fatalf("peer state: %v", p)
	}
}

func TestRateLimit(t *testing.T) {
	addr, conns := rawBackend(t)
	// A fake clock for the limiter alone: sleeping moves it, so the
	// schedule is checked exactly and the test does not wait.
	var mu sync.Mutex
	f := &fakeTime{t: time.Unix(1000, 0)}
	start := f.t
	r := startRigWith(t, fmt.Sprintf(`stream { server { listen 127.0.0.1:1; proxy_pass %s; proxy_download_rate 16k; proxy_buffer_size 4k; } }`, addr), func(p *Proxy) {
		p.rateNow = func() time.Time { mu.Lock(); defer mu.Unlock(); return f.now() }
		p.rateSleep = func(d time.Duration) { mu.Lock(); defer mu.Unlock(); f.sleep(d) }
	})
	c := r.dial(t, key1)
	b := accept(t, conns)
	const total = 64 << 10
	go func() { b.Write(make([]byte, total)); b.Close() }()
	got, err := io.ReadAll(c)
	if err != nil || len(got) != total {
		t.Fatalf("read %d: %v", len(got), err)
	}
	// 16 KiB pass in the first second, the remaining 48 KiB take three.
	mu.Lock()
	defer mu.Unlock()
	if el := f.t.Sub(start); el < 3*time.Second || el > 3*time.Second+10*time.Millisecond {
		t.Errorf("fake time spent: %v, want 3s", el)
	}
}

func mustAP(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

func portOf(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}

func TestProxyBind(t *testing.T) {
	addr, conns := rawBackend(t)
	r := startRig(t, fmt.Sprintf(`stream { server { listen 127.0.0.1:1; proxy_pass %s; proxy_bind 127.0.0.2; } }`, addr))
	r.dial(t, key1)
	b := accept(t, conns)
	if ip := b.RemoteAddr().(*net.TCPAddr).IP.String(); ip != "127.0.0.2" {
		t.Errorf("backend saw the proxy from %s, want 127.0.0.2", ip)
	}
}

// TestSplicePath guards the speed property: between two TCP connections,
// without a rate limit, a direction copies with splice(2) (ReadFrom on
// the bare *net.TCPConn); a limit or a TLS side falls back to a buffer.
func TestSplicePath(t *testing.T) {
	tcp := &net.TCPConn{}
	tests := []struct {
		name     string
		dst, src conn
		lim      *limiter
		want     bool
	}{
		{"tcp to tcp", tcp, tcp, nil, true},
		{"rate limited", tcp, tcp, &limiter{rate: 1}, false},
		{"tls front", tcp, withPrefix(tcp, []byte("x")), nil, false},
	}
	for _, tt := range tests {
		dr := &direction{dst: tt.dst, src: tt.src, limiter: tt.lim}
		if got := dr.splices(); got != tt.want {
			t.Errorf("%s: splices() = %v", tt.name, got)
		}
	}
}

func TestReturn(t *testing.T) {
	r := startRig(t, `stream {
    server { listen 127.0.0.1:1; set $who "you are"; set $line "$who $remote_addr"; return "$line\n"; }
    server { listen 127.0.0.1:1 udp; return "udp $protocol"; }
}`)
	c := r.dial(t, key1)
	got, err := io.ReadAll(c)
	if err != nil || string(got) != "you are 127.0.0.1\n" {
		t.Errorf("tcp: %q %v", got, err)
	}
	if got := udpAsk(t, udpClient(t, r), "x", testTimeout); got != "udp UDP" {
		t.Errorf("udp: %q", got)
	}
}

// TestLimitConnAcrossReload: a connection opened before a reload still
// counts against limit_conn after it (the zone is live state).
func TestLimitConnAcrossReload(t *testing.T) {
	a := startBackend(t, "a")
	conf := fmt.Sprintf(`stream {
    limit_conn_zone $binary_remote_addr zone=per_ip:1m;
    server { listen 127.0.0.1:1; proxy_pass %s; limit_conn per_ip 1; }
}`, a.addr)
	r := startRig(t, conf)
	held := r.dial(t, key1)
	if got := firstLine(t, held); got != "a" {
		t.Fatalf("got %q", got)
	}
	r.reload(t, conf)
	if got := readName(t, r, key1); got != "" {
		t.Errorf("after the reload a second connection reached %q", got)
	}
}

func TestFirstByteTime(t *testing.T) {
	a := startBackend(t, "a")
	r := startRig(t, fmt.Sprintf(`stream {
    log_format f '$upstream_connect_time $upstream_first_byte_time';
    upstream u { least_time first_byte; server %s; }
    server { listen 127.0.0.1:1; proxy_pass u; access_log {{dir}}/s.log f; }
}`, a.addr))
	c := r.dial(t, key1)
	if got := firstLine(t, c); got != "a" {
		t.Fatalf("got %q", got)
	}
	io.WriteString(c, "more\n") // still flows after the one-byte first step
	if got := firstLine(t, c); got != "more" {
		t.Errorf("echo after the first byte: %q", got)
	}
	c.Close()
	f := strings.Fields(waitFile(t, r.dir+"/s.log", 1)[0])
	if len(f) != 2 || f[1] == "-" || f[1] < f[0] {
		t.Errorf("connect and first byte times: %q", f)
	}
}
