package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// parseSize reads nginx sizes: "512", "4k", "1m", "1g" (either case).
func parseSize(s string) (int64, error) {
	if s == "" {
		return 0, fmt.Errorf("empty size")
	}
	mult := int64(1)
	switch s[len(s)-1] {
	case 'k', 'K':
		mult = 1 << 10
	case 'm', 'M':
		mult = 1 << 20
	case 'g', 'G':
		mult = 1 << 30
	}
	num := s
	if mult != 1 {
		num = s[:len(s)-1]
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("invalid size %q: write a number of bytes, optionally with k, m or g (e.g. 128k)", s)
	}
	return n * mult, nil
}

var timeUnits = []struct {
	suffix string
	d      time.Duration
}{
	// "ms" before "m" and "s" so that the longest suffix wins.
	{"ms", time.Millisecond},
	{"s", time.Second},
	{"m", time.Minute},
	{"h", time.Hour},
	{"d", 24 * time.Hour},
	{"w", 7 * 24 * time.Hour},
	{"M", 30 * 24 * time.Hour},
	{"y", 365 * 24 * time.Hour},
}

// parseDuration reads nginx times: "30", "30s", "500ms", "1h30m", "1h 30m".
// A bare number is seconds, as in nginx.
func parseDuration(s string) (time.Duration, error) {
	bad := fmt.Errorf("invalid time %q: write a number with a unit, e.g. 30s, 500ms, 5m or 1h", s)
	rest := strings.TrimSpace(s)
	if rest == "" {
		return 0, bad
	}
	var total time.Duration
	for rest != "" {
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 || i > 12 {
			return 0, bad
		}
		n, _ := strconv.ParseInt(rest[:i], 10, 64)
		rest = rest[i:]
		unit := time.Second
		for _, u := range timeUnits {
			if strings.HasPrefix(rest, u.suffix) {
				unit = u.d
				rest = rest[len(u.suffix):]
				break
			}
		}
		total += time.Duration(n) * unit
		rest = strings.TrimLeft(rest, " ")
	}
	return total, nil
}

// parseFlag reads "on" or "off".
func parseFlag(s string) (bool, error) {
	switch s {
	case "on":
		return true, nil
	case "off":
		return false, nil
	}
	return false, fmt.Errorf("invalid value %q: it must be \"on\" or \"off\"", s)
}
