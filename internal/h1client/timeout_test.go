package h1client

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// blockingBackend answers with head (maybe nothing) and then waits for
// release before closing; got is signalled once the request was read.
func blockingBackend(t *testing.T, head string) (be *rawBackend, got <-chan struct{}) {
	release := make(chan struct{})
	g := make(chan struct{}, 1)
	t.Cleanup(func() { close(release) })
	be = newRaw(t, func(c net.Conn, br *bufio.Reader) {
		if _, err := http.ReadRequest(br); err != nil {
			return
		}
		io.WriteString(c, head)
		g <- struct{}{}
		<-release
	})
	return be, g
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// TestReadTimeout: proxy_read_timeout applies between reads, waiting for
// the head and in the middle of a body.
func TestReadTimeout(t *testing.T) {
	be, _ := blockingBackend(t, "")
	p := New(Options{ReadTimeout: 20 * time.Millisecond})
	defer p.Close()
	if _, _, err := get(t, p, be.addr, "GET", "/"); !isTimeout(err) {
		t.Fatalf("waiting for the head: %v, want a timeout", err)
	}
	be, _ = blockingBackend(t, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
	resp, _, err := get(t, p, be.addr, "GET", "/")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := readAll(resp); !isTimeout(err) {
		t.Fatalf("in the body: %v, want a timeout", err)
	}
	if n := p.IdleConns(be.addr); n != 0 {
		t.Errorf("%d idle connections after a timeout", n)
	}
}

// TestCancel: the request's context ending stops a round trip waiting
// for the head, and a body being read, with the context's error.
func TestCancel(t *testing.T) {
	p := New(Options{})
	defer p.Close()
	be, got := blockingBackend(t, "")
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-got; cancel() }()
	_, _, err := p.RoundTrip(ctx, be.addr, newReq("GET", "/", "h", nil))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("waiting for the head: %v, want context.Canceled", err)
	}
	be, got = blockingBackend(t, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
	ctx, cancel = context.WithCancel(context.Background())
	resp, _, err := p.RoundTrip(ctx, be.addr, newReq("GET", "/", "h", nil))
	if err != nil {
		t.Fatal(err)
	}
	<-got
	buf := make([]byte, 3)
	if _, err := io.ReadFull(resp.Body, buf); err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := resp.Body.Read(buf); !errors.Is(err, context.Canceled) {
		t.Fatalf("in the body: %v, want context.Canceled", err)
	}
	resp.Body.Close()
}

// TestConnectError: a refused connection is a dial error.
func TestConnectError(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	p := New(Options{ConnectTimeout: time.Second})
	var oe *net.OpError
	if _, _, err := get(t, p, addr, "GET", "/"); !errors.As(err, &oe) || oe.Op != "dial" {
		t.Fatalf("err %v, want a dial *net.OpError", err)
	}
}

// TestLazyDeadline: a deadline moves only when it would move by more than
// the slack (300 ms, or an eighth of a shorter timeout), never later than
// the timeout from now.
func TestLazyDeadline(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name string
		cur  time.Time
		t    time.Duration
		move bool
	}{
		{"unset", time.Time{}, time.Minute, true},
		{"fresh", now.Add(time.Minute), time.Minute, false},
		{"within slack", now.Add(time.Minute - 200*time.Millisecond), time.Minute, false},
		{"past slack", now.Add(time.Minute - 400*time.Millisecond), time.Minute, true},
		{"short timeout, within", now.Add(95 * time.Millisecond), 100 * time.Millisecond, false},
		{"short timeout, past", now.Add(80 * time.Millisecond), 100 * time.Millisecond, true},
		{"in the past", time.Unix(1, 0), time.Minute, true},
	}
	for _, tt := range tests {
		dl, move := lazyDeadline(tt.cur, time.Now(), tt.t)
		if move != tt.move {
			t.Errorf("%s: move %v, want %v", tt.name, move, tt.move)
		}
		if dl.After(time.Now().Add(tt.t)) {
			t.Errorf("%s: deadline %v beyond the timeout", tt.name, dl)
		}
	}
}
