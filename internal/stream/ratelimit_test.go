package stream

import (
	"testing"
	"time"
)

// fakeTime is a clock that moves only when sleep is called.
type fakeTime struct{ t time.Time }

func (f *fakeTime) now() time.Time        { return f.t }
func (f *fakeTime) sleep(d time.Duration) { f.t = f.t.Add(d) }

func TestLimiterSchedule(t *testing.T) {
	tests := []struct {
		rate, total int64
		buf         int
		want        time.Duration // fake time to pass total bytes
	}{
		// The first second's worth passes at once, the rest at rate.
		{rate: 1000, total: 1000, buf: 4096, want: 0},
		{rate: 1000, total: 5000, buf: 4096, want: 4 * time.Second},
		{rate: 1 << 20, total: 10 << 20, buf: 16 << 10, want: 9 * time.Second},
		{rate: 100, total: 250, buf: 7, want: 1500 * time.Millisecond},
	}
	for _, tt := range tests {
		f := &fakeTime{t: time.Unix(1000, 0)}
		l := newLimiter(tt.rate, f.now, f.sleep)
		var moved int64
		for moved < tt.total {
			n := l.take(min(tt.buf, int(tt.total-moved)))
			if n <= 0 {
				t.Fatalf("rate %d: take gave %d", tt.rate, n)
			}
			l.spent(n)
			moved += int64(n)
			// Never ahead of nginx's allowance.
			if el := f.t.Sub(l.start); moved > l.allowance(el)+l.sent {
				t.Fatalf("rate %d: %d bytes after %v", tt.rate, moved, el)
			}
		}
		got := f.t.Sub(l.start)
		// Sleeps wait for a hundredth of a second's worth of bytes, so
		// the last one may overshoot by up to 10ms.
		if got < tt.want || got > tt.want+10*time.Millisecond {
			t.Errorf("rate %d, %d bytes: took %v of fake time, want %v", tt.rate, tt.total, got, tt.want)
		}
	}
}
