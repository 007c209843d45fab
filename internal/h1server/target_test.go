package h1server

import (
	"net/url"
	"reflect"
	"testing"
)

// parseTarget must give exactly what url.ParseRequestURI gives, on its
// fast path and off it.
func TestParseTarget(t *testing.T) {
	for _, tc := range []struct {
		raw   string
		plain bool // expected to take the fast path
	}{
		{"/", true},
		{"/bench", true},
		{"/a/b.c-d_e~f", true},
		{"/a?b=c&d", true},
		{"/a?b?c", true},
		{"/a?", false},  // ForceQuery
		{"/a??", false}, // ends in "?": left to net/url
		{"/?", false},
		{"/$&+,;=:@", true},
		{"//double/slash", true},
		{"/a%20b", false},
		{"/a%2Fb", false},
		{"/a%zz", false}, // an error from net/url
		{"/a b", false},
		{"/a!b", false}, // escaped by net/url: RawPath is set
		{"/a*b'(c)", false},
		{"/ü", false},
		{"/a?q=ü", true},
		{"/a?q=\x01", false},
		{"/a\x7f", false},
		{"*", false},
		{"http://h/x", false},
		{"http://h", false},
		{"example.com:443", false},
		{"", false},
		{"a/b", false},
	} {
		_, _, plain := plainTarget(tc.raw)
		if plain != tc.plain {
			t.Errorf("plainTarget(%q) = %v, want %v", tc.raw, plain, tc.plain)
		}
		checkTarget(t, tc.raw)
	}
	// Every byte, in the path and in the query.
	for b := 0; b < 256; b++ {
		checkTarget(t, "/a"+string(rune(b))[:1]+"b")
		checkTarget(t, "/a"+string([]byte{byte(b)})+"b?x")
		checkTarget(t, "/a?x"+string([]byte{byte(b)}))
	}
}

func checkTarget(t *testing.T, raw string) {
	t.Helper()
	want, werr := url.ParseRequestURI(raw)
	u := url.URL{Path: "stale", RawPath: "stale", Host: "stale", ForceQuery: true}
	err := parseTarget(&u, raw)
	if (err != nil) != (werr != nil) {
		t.Fatalf("parseTarget(%q): error %v, url.ParseRequestURI: %v", raw, err, werr)
	}
	if err == nil && !reflect.DeepEqual(u, *want) {
		t.Fatalf("parseTarget(%q) = %#v, want %#v", raw, u, *want)
	}
}

func FuzzParseTarget(f *testing.F) {
	for _, s := range []string{"/", "/a?b", "/a%20", "/a?", "http://x/y", "*", "/a!b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) { checkTarget(t, raw) })
}
