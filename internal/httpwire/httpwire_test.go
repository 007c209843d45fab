package httpwire

import "testing"

func TestParseLength(t *testing.T) {
	tests := []struct {
		in string
		n  int64
		ok bool
	}{
		{"0", 0, true}, {"123", 123, true}, {"999999999999999999", 999999999999999999, true},
		{"", 0, false}, {"+1", 0, false}, {"-1", 0, false}, {"1, 1", 0, false}, {"0x1", 0, false},
		{" 1", 0, false}, {"1000000000000000000", 0, false},
	}
	for _, tt := range tests {
		n, ok := ParseLength(tt.in)
		nb, okb := ParseLength([]byte(tt.in))
		if n != tt.n || ok != tt.ok || nb != n || okb != ok {
			t.Errorf("ParseLength(%q) = %d %v (bytes: %d %v), want %d %v", tt.in, n, ok, nb, okb, tt.n, tt.ok)
		}
	}
}

func TestParseHex(t *testing.T) {
	tests := []struct {
		in string
		n  int64
		ok bool
	}{
		{"0", 0, true}, {"1a", 26, true}, {"FF", 255, true}, {"fffffffffffffff", 0xfffffffffffffff, true},
		{"", 0, false}, {"1000000000000000", 0, false}, {"-1", 0, false}, {"1 ", 0, false}, {"0x1", 0, false}, {"g", 0, false},
	}
	for _, tt := range tests {
		if n, ok := ParseHex([]byte(tt.in)); n != tt.n || ok != tt.ok {
			t.Errorf("ParseHex(%q) = %d %v, want %d %v", tt.in, n, ok, tt.n, tt.ok)
		}
	}
}

func TestHasToken(t *testing.T) {
	tests := []struct {
		vv   []string
		tok  string
		want bool
	}{
		{[]string{"close"}, "close", true},
		{[]string{"keep-alive, Upgrade"}, "upgrade", true},
		{[]string{"a", " \tClose\t "}, "close", true},
		{[]string{"closed"}, "close", false},
		{[]string{""}, "close", false},
		{nil, "close", false},
	}
	for _, tt := range tests {
		if got := HasToken(tt.vv, tt.tok); got != tt.want {
			t.Errorf("HasToken(%q, %q) = %v", tt.vv, tt.tok, got)
		}
	}
}

func TestTrimOWS(t *testing.T) {
	for in, want := range map[string]string{"": "", "a": "a", " \ta b\t ": "a b", "\t": "", " x": "x"} {
		if got := TrimOWS(in); got != want {
			t.Errorf("TrimOWS(%q) = %q, want %q", in, got, want)
		}
		if got := TrimOWS([]byte(in)); string(got) != want {
			t.Errorf("TrimOWS([]byte(%q)) = %q, want %q", in, got, want)
		}
	}
}

func TestIsTokenString(t *testing.T) {
	for s, want := range map[string]bool{"GET": true, "X-Forwarded-For": true, "a!#$%&'*+-.^_`|~9": true,
		"": false, "Bad Name": false, "Name:": false, "caf\u00e9": false, "a\x00": false} {
		if IsTokenString(s) != want || IsTokenString([]byte(s)) != want {
			t.Errorf("IsTokenString(%q) != %v", s, want)
		}
	}
}

func TestTokenAndIdempotent(t *testing.T) {
	for _, c := range []byte("aZ09!#$%&'*+-.^_`|~") {
		if !IsToken(c) {
			t.Errorf("%q is a token char", c)
		}
	}
	for _, c := range []byte(" \t\"(),/:;<=>?@[\\]{}\x00\x7f\x80") {
		if IsToken(c) {
			t.Errorf("%q is not a token char", c)
		}
	}
	for m, want := range map[string]bool{"GET": true, "PUT": true, "DELETE": true, "POST": false, "PATCH": false, "get": false} {
		if Idempotent(m) != want {
			t.Errorf("Idempotent(%s) != %v", m, want)
		}
	}
}
