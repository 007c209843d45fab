package httpproxy

import "testing"

func TestLogEscapes(t *testing.T) {
	tests := []struct{ in, def, json string }{
		{`plain`, `plain`, `plain`},
		{"a\"b\\c", `a\x22b\x5Cc`, `a\"b\\c`},
		{"\x01\n\t", `\x01\x0A\x09`, `\u0001\n\t`},
		{"é", `\xC3\xA9`, "é"},
	}
	for _, tt := range tests {
		if got := string(appendDefaultEscaped(nil, []byte(tt.in))); got != tt.def {
			t.Errorf("default %q = %q, want %q", tt.in, got, tt.def)
		}
		if got := string(appendJSONEscaped(nil, []byte(tt.in))); got != tt.json {
			t.Errorf("json %q = %q, want %q", tt.in, got, tt.json)
		}
	}
}
