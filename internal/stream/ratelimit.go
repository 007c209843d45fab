package stream

import "time"

// limiter is proxy_upload_rate / proxy_download_rate for one direction
// of one session, with nginx's arithmetic: by t seconds into the session
// it lets rate*(t+1) bytes through, so the first second's worth passes
// at once and the rest at rate (ngx_stream_proxy_process: "limit =
// rate * (ngx_time() - start_sec + 1) - received").
//
// Time is injected so that tests check the schedule without sleeping.
type limiter struct {
	rate  int64 // bytes per second, > 0
	start time.Time
	sent  int64
	now   func() time.Time
	sleep func(time.Duration)
}

func newLimiter(rate int64, now func() time.Time, sleep func(time.Duration)) *limiter {
	return &limiter{rate: rate, start: now(), now: now, sleep: sleep}
}

// take waits until bytes may pass and returns how many of max may be
// read now. Like nginx, which sleeps at least a millisecond, it does not
// wake for every byte: it waits for a hundredth of a second's worth (or
// max, if smaller).
func (l *limiter) take(max int) int {
	batch := min(int64(max), l.rate/100)
	batch = maxInt64(batch, 1)
	for {
		allow := l.allowance(l.now().Sub(l.start))
		if allow >= batch {
			return int(min(int64(max), allow))
		}
		need := batch - allow
		l.sleep(time.Duration((need*int64(time.Second) + l.rate - 1) / l.rate))
	}
}

// allowance is rate*(el+1s) - sent, computed without overflow for rates
// up to several GB/s and sessions of years.
func (l *limiter) allowance(el time.Duration) int64 {
	sec, ns := int64(el/time.Second), int64(el%time.Second)
	return l.rate*(sec+1) + l.rate*ns/int64(time.Second) - l.sent
}

func maxInt64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

// spent records n bytes read.
func (l *limiter) spent(n int) { l.sent += int64(n) }
