package config

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// loadFiles writes files (name → text) into a fresh directory and loads
// bunsan.conf from it.
func loadFiles(t *testing.T, files map[string]string) (*Model, []string, string) {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	file := filepath.Join(dir, "bunsan.conf")
	m, _, err := Load(Options{Prefix: dir + "/", File: file})
	lines := errorLines(t, err, dir+"/")
	return m, lines, dir
}

func TestAPIDirective(t *testing.T) {
	tests := []struct {
		name   string
		loc    string
		write  bool
		prefix string
		errs   []string
	}{
		{"read only", "location /api { api; }", false, "/api", nil},
		{"write", "location /api/ { api write=on; }", true, "/api/", nil},
		{"write off", "location = /api { api write=off; }", false, "/api", nil},
		{"regex", "location ~ ^/api { api; }", false, "", nil},
		{"bad param", "location /api { api write=yes; }", false, "", []string{`1:50: invalid parameter "write=yes": api takes only write=on or write=off`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, errs, _ := loadFiles(t, map[string]string{"bunsan.conf": "http { server { listen 8080; " + tt.loc + " } }"})
			if !slices.Equal(errs, tt.errs) {
				t.Fatalf("errors %q, want %q", errs, tt.errs)
			}
			if tt.errs != nil {
				return
			}
			api := m.HTTP.Servers[0].Locations[0].API
			if api == nil || api.Write != tt.write || api.Prefix != tt.prefix {
				t.Fatalf("api %+v", api)
			}
		})
	}
}

func TestStateDirective(t *testing.T) {
	tests := []struct {
		name  string
		state string // contents of u.state; "-" for no file
		block string
		want  []string // addr weight
		errs  []string
	}{
		{"servers from file", "server 10.0.0.1:80 weight=2;\nserver 10.0.0.2:80 down;\n", "state u.state;",
			[]string{"10.0.0.1:80 2", "10.0.0.2:80 1"}, nil},
		{"server lines before state", "server 10.0.0.1:80;", "server 10.0.0.9:80; state u.state;",
			nil, []string{`1:41: "state" cannot be used with "server" lines in the same upstream (as in NGINX Plus): move the server lines into the state file, or remove state`}},
		{"empty file", "", "state u.state;", nil, nil},
		{"no file yet", "-", "state u.state;", nil, nil},
		{"bad line in file", "server 10.0.0.1:80 weight=x;\nhash $uri;\n", "state u.state;", nil, []string{
			`u.state:1:20: invalid weight "x": it must be a whole number of at least 1`,
			`u.state:2:1: unexpected "hash" in state file: it holds only "server" lines, written by bunsan`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string]string{"bunsan.conf": "http { upstream u { " + tt.block + " } }"}
			if tt.state != "-" {
				files["u.state"] = tt.state
			}
			m, errs, dir := loadFiles(t, files)
			for i := range errs {
				errs[i] = strings.TrimPrefix(errs[i], dir+"/")
			}
			if !slices.Equal(errs, tt.errs) {
				t.Fatalf("errors\n%q\nwant\n%q", errs, tt.errs)
			}
			if tt.errs != nil {
				return
			}
			u := m.HTTP.Upstream("u")
			if u.StateFile != filepath.Join(dir, "u.state") {
				t.Errorf("state file %q", u.StateFile)
			}
			var got []string
			for _, s := range u.Servers {
				got = append(got, s.Addr+" "+strconv.Itoa(s.Weight))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("servers %v, want %v", got, tt.want)
			}
			if len(u.Servers) > 1 && (!u.Servers[1].Down || u.Servers[0].FailTimeout != 10*time.Second) {
				t.Errorf("parameters not read: %+v", u.Servers)
			}
		})
	}
}

func TestBasicAuthInheritance(t *testing.T) {
	conf := `http {
    auth_basic "outer";
    auth_basic_user_file users;
    server {
        listen 8080;
        location /api { api; }
        location /open { auth_basic off; }
        location /inner {
            auth_basic "inner";
            location /inner/deep { }
        }
    }
    server {
        listen 8081;
        auth_basic off;
        location / { }
        location /on { auth_basic "again"; }
    }
}`
	m, errs, dir := loadFiles(t, map[string]string{"bunsan.conf": conf, "users": "u:{PLAIN}p\n"})
	if errs != nil {
		t.Fatal(errs)
	}
	s0, s1 := m.HTTP.Servers[0], m.HTTP.Servers[1]
	users := filepath.Join(dir, "users")
	tests := []struct {
		name  string
		srv   *Server
		loc   *Location
		realm string // "" = no auth
	}{
		{"inherits http", s0, s0.Locations[0], "outer"},
		{"off in location", s0, s0.Locations[1], ""},
		{"own realm", s0, s0.Locations[2], "inner"},
		{"nested inherits enclosing location", s0, s0.Locations[2].Locations[0], "inner"},
		{"off in server", s1, s1.Locations[0], ""},
		{"on again below off", s1, s1.Locations[1], "again"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := m.BasicAuth(tt.srv, tt.loc)
			switch {
			case tt.realm == "" && a != nil:
				t.Fatalf("auth %+v, want none", a)
			case tt.realm != "" && (a == nil || a.Realm != tt.realm || a.UserFile != users):
				t.Fatalf("auth %+v, want realm %q file %s", a, tt.realm, users)
			}
		})
	}
}

func TestBasicAuthMissingFile(t *testing.T) {
	_, errs, _ := loadFiles(t, map[string]string{"bunsan.conf": "http { auth_basic x; auth_basic_user_file nope; }"})
	if len(errs) != 1 || !strings.Contains(errs[0], `cannot read auth_basic_user_file`) {
		t.Fatalf("errors %q", errs)
	}
}
