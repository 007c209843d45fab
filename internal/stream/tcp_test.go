package stream

import (
	"bufio"
	"fmt"
	"io"
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
