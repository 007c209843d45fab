package h1client

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// slotCtx is an abortNotifier like h1server's connection context: one
// registration at a time, or none when accept is false.
type slotCtx struct {
	context.Context
	cancel context.CancelFunc
	accept bool

	mu                sync.Mutex
	slot              interface{ Abort() }
	notified, stopped int
}

func newSlotCtx(accept bool) *slotCtx {
	ctx, cancel := context.WithCancel(context.Background())
	return &slotCtx{Context: ctx, cancel: cancel, accept: accept}
}

func (s *slotCtx) NotifyAbort(a interface{ Abort() }) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.accept || s.slot != nil {
		return false
	}
	s.slot = a
	s.notified++
	return true
}

func (s *slotCtx) StopAbort(a interface{ Abort() }) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.slot != a {
		return false
	}
	s.slot = nil
	s.stopped++
	return true
}

func (s *slotCtx) end() {
	s.cancel()
	s.mu.Lock()
	a := s.slot
	s.slot = nil
	s.mu.Unlock()
	if a != nil {
		a.Abort()
	}
}

// TestAbortNotifier: a context that takes the abort registration ends a
// round trip as context.AfterFunc would, and gets it back when the round
// trip ends cleanly; one that refuses falls back to AfterFunc.
func TestAbortNotifier(t *testing.T) {
	for _, accept := range []bool{true, false} {
		// A clean round trip: registered, unregistered, pooled.
		p := New(Options{})
		be := scripted(t, func(*http.Request) (string, bool) { return "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", false })
		ctx := newSlotCtx(accept)
		resp, _, err := p.RoundTrip(ctx, be.addr, newReq("GET", "/", "h", nil))
		if err != nil {
			t.Fatal(err)
		}
		if body, err := readAll(resp); err != nil || body != "ok" {
			t.Fatalf("accept=%v: body %q, %v", accept, body, err)
		}
		want := 0
		if accept {
			want = 1
		}
		if ctx.notified != want || ctx.stopped != want || ctx.slot != nil {
			t.Errorf("accept=%v: notified %d, stopped %d, slot %v", accept, ctx.notified, ctx.stopped, ctx.slot)
		}
		if n := p.IdleConns(be.addr); n != 1 {
			t.Errorf("accept=%v: %d idle connections, want 1", accept, n)
		}
		// The context ending while the head is awaited.
		blocked, got := blockingBackend(t, "")
		ctx = newSlotCtx(accept)
		go func() { <-got; ctx.end() }()
		if _, _, err := p.RoundTrip(ctx, blocked.addr, newReq("GET", "/", "h", nil)); !errors.Is(err, context.Canceled) {
			t.Fatalf("accept=%v: %v, want context.Canceled", accept, err)
		}
		p.Close()
	}
}

// TestReleaseHeader: a header map handed back and filled again holds the
// new response's fields only, and the released one's values stay as they
// were (the client's response may still hold them).
func TestReleaseHeader(t *testing.T) {
	big := "HTTP/1.1 200 OK\r\n"
	for i := 0; i < maxPooledFields+1; i++ {
		big += "X-" + strings.Repeat("a", i+1) + ": v\r\n"
	}
	tests := []struct {
		head string
		want http.Header
	}{
		{"HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nB: 3\r\n\r\n", http.Header{"A": {"1"}, "B": {"2", "3"}}},
		{"HTTP/1.1 204 No Content\r\nC: 4\r\n\r\n", http.Header{"C": {"4"}}},
		{big + "\r\n", nil}, // too big to be kept
		{"HTTP/1.1 200 OK\r\n\r\n", http.Header{}},
		{"HTTP/1.1 200 OK\r\nA: 5\r\n\r\n", http.Header{"A": {"5"}}},
	}
	var kept [][]string
	for _, tt := range tests {
		var resp http.Response
		if _, err := parseHead(tt.head, &resp); err != nil {
			t.Fatal(err)
		}
		if tt.want != nil && !reflect.DeepEqual(resp.Header, tt.want) {
			t.Errorf("%q: header %v, want %v", tt.head, resp.Header, tt.want)
		}
		if vv := resp.Header["A"]; vv != nil {
			kept = append(kept, vv)
		}
		ReleaseHeader(resp.Header)
	}
	ReleaseHeader(nil)
	if !reflect.DeepEqual(kept, [][]string{{"1"}, {"5"}}) {
		t.Errorf("values kept from released maps: %v", kept)
	}
}
