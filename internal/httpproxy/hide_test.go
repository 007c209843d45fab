package httpproxy

import (
	"testing"

	"bunsan/internal/config"
)

// The default hidden set is a switch; configured names override it
// both ways, as proxy_hide_header and proxy_pass_header do in nginx.
func TestHideSet(t *testing.T) {
	plain := hiddenHeaders(&config.Proxy{})
	custom := hiddenHeaders(&config.Proxy{HideHeaders: []string{"x-powered-by"}, PassHeaders: []string{"X-Accel-Expires"}})
	for _, tc := range []struct {
		set  hideSet
		name string
		want bool
	}{
		{plain, "X-Accel-Redirect", true},
		{plain, "X-Pad", true},
		{plain, "X-Accel-Expires", true},
		{plain, "Content-Type", false},
		{plain, "X-Powered-By", false},
		{custom, "X-Powered-By", true},
		{custom, "X-Accel-Expires", false},
		{custom, "X-Accel-Charset", true},
		{custom, "Content-Type", false},
	} {
		if got := tc.set.hidden(tc.name); got != tc.want {
			t.Errorf("hidden(%q) with %v = %v, want %v", tc.name, tc.set.set, got, tc.want)
		}
	}
}
