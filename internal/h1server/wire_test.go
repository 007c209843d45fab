package h1server

import (
	"strings"
	"testing"
)

// cleanValue's fast path must give what net/http's rule gives: line
// breaks to spaces, then spaces trimmed (Unicode ones included).
func TestCleanValue(t *testing.T) {
	for _, v := range []string{
		"", "a", "text/html; charset=utf-8", " lead", "trail ", "\ttab\t",
		"a\r\nb", "a\nb", "\r\n", "x\u00a0", "\u00a0x", "caf\u00e9", "\u0085", "a b", "\x7f",
	} {
		want := strings.TrimSpace(strings.NewReplacer("\n", " ", "\r", " ").Replace(v))
		if got := cleanValue(v); got != want {
			t.Errorf("cleanValue(%q) = %q; want %q", v, got, want)
		}
	}
}
