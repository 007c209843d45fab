package config

import (
	"os"
	"strings"
	"testing"
)

// TestREADMEListsEveryDirective keeps README's directive tables true: every
// directive in the table is named there.
func TestREADMEListsEveryDirective(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	seen := map[string]bool{}
	for _, d := range Directives() {
		if seen[d.Name] {
			continue
		}
		seen[d.Name] = true
		if !strings.Contains(readme, "`"+d.Name+"`") && !strings.Contains(readme, "`"+d.Name+" ") {
			t.Errorf("README.md does not name the directive %q", d.Name)
		}
	}
}
