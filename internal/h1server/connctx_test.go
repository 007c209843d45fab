package h1server

import (
	"context"
	"testing"
)

type countAbort struct{ n int }

func (a *countAbort) Abort() { a.n++ }

// TestConnCtx: one registration at a time, stop semantics as
// context.AfterFunc's, and a parent that can end on its own refuses all.
func TestConnCtx(t *testing.T) {
	cancellable, stop := context.WithCancel(context.Background())
	defer stop()
	a, b := &countAbort{}, &countAbort{}
	type op struct {
		do   string // notify, stop, end
		who  *countAbort
		want bool
	}
	tests := []struct {
		name   string
		parent context.Context
		ops    []op
		aborts [2]int // a.n, b.n at the end
	}{
		{"notify, stop", context.Background(), []op{{"notify", a, true}, {"stop", a, true}, {"end", nil, false}}, [2]int{0, 0}},
		{"notify, end", context.Background(), []op{{"notify", a, true}, {"end", nil, false}, {"stop", a, false}}, [2]int{1, 0}},
		{"slot taken", context.Background(), []op{{"notify", a, true}, {"notify", b, false}, {"stop", b, false}, {"end", nil, false}}, [2]int{1, 0}},
		{"reused slot", context.Background(), []op{{"notify", a, true}, {"stop", a, true}, {"notify", b, true}, {"end", nil, false}}, [2]int{0, 1}},
		{"stop twice", context.Background(), []op{{"notify", a, true}, {"stop", a, true}, {"stop", a, false}}, [2]int{0, 0}},
		{"after end", context.Background(), []op{{"end", nil, false}, {"notify", a, false}}, [2]int{0, 0}},
		{"parent can end", cancellable, []op{{"notify", a, false}, {"end", nil, false}}, [2]int{0, 0}},
	}
	for _, tt := range tests {
		a.n, b.n = 0, 0
		var x connCtx
		x.init(tt.parent)
		for i, o := range tt.ops {
			var got bool
			switch o.do {
			case "notify":
				got = x.NotifyAbort(o.who)
			case "stop":
				got = x.StopAbort(o.who)
			case "end":
				x.end()
				if x.Err() == nil {
					t.Errorf("%s: context not cancelled by end", tt.name)
				}
			}
			if got != o.want {
				t.Errorf("%s: op %d (%s) = %v, want %v", tt.name, i, o.do, got, o.want)
			}
		}
		if a.n != tt.aborts[0] || b.n != tt.aborts[1] {
			t.Errorf("%s: aborts %d, %d; want %v", tt.name, a.n, b.n, tt.aborts)
		}
	}
}
