package tlsconf

import "testing"

func TestNamesLookup(t *testing.T) {
	var n names
	sites := [][]string{
		0: {"_"},
		1: {"example.com", "www.example.com"},
		2: {"*.example.com"},
		3: {"*.api.example.com"},
		4: {"www.example.*"},
		5: {`~^(?<user>[a-z]+)\.users\.test$`},
		6: {".example.org"},
	}
	for i, s := range sites {
		if err := n.add(i, s); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		host string
		want int
	}{
		{"example.com", 1},
		{"WWW.Example.COM", 1},
		{"www.example.com.", 1},
		{"a.example.com", 2},
		{"x.api.example.com", 3}, // the longest wildcard wins
		{"www.example.net", 4},
		{"bob.users.test", 5},
		{"example.org", 6},
		{"a.b.example.org", 6},
		{"unknown.test", -1},
		{"", -1},
		{"_", -1},
	}
	for _, tt := range tests {
		if got := n.lookup(tt.host); got != tt.want {
			t.Errorf("lookup(%q) = %d, want %d", tt.host, got, tt.want)
		}
	}
	if err := n.add(9, []string{"~("}); err == nil {
		t.Error("a bad regular expression should be an error")
	}
}
