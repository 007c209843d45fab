package conf

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func printString(t testing.TB, dirs []*Directive) string {
	t.Helper()
	var sb strings.Builder
	if err := Print(&sb, dirs); err != nil {
		t.Fatal(err)
	}
	return sb.String()
}

// Names carry no quoting record, so they print bare where they can.
func TestPrintCanonical(t *testing.T) {
	src := `
# comment dropped
user  www-data;
events{}
http {
  log_format main '$a "$b"'
                  "$c";
	server {
		listen 80   default_server;
		location ~ \.php$ { fastcgi_pass unix:/run/php.sock; }
		set $x "${host}:8080";
		return 200 "ok\n";
		add_header X-Empty "";
		map $a $b { "" 1; 'single' 2; }
	}
}
`
	want := `user www-data;
events {}
http {
    log_format main '$a "$b"' "$c";
    server {
        listen 80 default_server;
        location ~ \.php$ {
            fastcgi_pass unix:/run/php.sock;
        }
        set $x "${host}:8080";
        return 200 "ok\n";
        add_header X-Empty "";
        map $a $b {
            "" 1;
            single 2;
        }
    }
}
`
	if got := printString(t, mustParse(t, src).Directives); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestFormatWord(t *testing.T) {
	tests := []struct {
		v     string
		quote byte
		want  string
	}{
		{"plain", 0, "plain"},
		{"", 0, `""`},
		{"", '\'', `''`},
		{"a b", 0, `"a b"`},
		{"a;b", 0, `"a;b"`},
		{"a{b", 0, `"a{b"`},
		{"${a}b", 0, `${a}b`},
		{"a}b", 0, `a}b`},
		{"}", 0, `"}"`},
		{"#x", 0, `"#x"`},
		{"a#x", 0, `a#x`},
		{`"x`, 0, `\"x`},
		{`a"b`, 0, `a"b`},
		{`a"b c`, 0, `"a\"b c"`},
		{`it's`, '\'', `'it\'s'`},
		{`\.php$`, 0, `\.php$`},
		{`a\`, 0, `a\\`},
		{`\n`, 0, `\\n`},
		{`\\`, 0, `\\\\`},
		{"\t", 0, `\t`},
		{"a\nb", '"', `"a\nb"`},
		{"a b\r", '\'', `'a b\r'`},
		{`a\ b`, 0, `a\ b`},
		{"//x", 0, "//x"},
		{"한글 값", 0, `"한글 값"`},
		{"\xff", 0, "\xff"},
	}
	for _, tt := range tests {
		got := formatWord(tt.v, tt.quote, false)
		if got != tt.want {
			t.Errorf("formatWord(%q, %q) = %s, want %s", tt.v, tt.quote, got, tt.want)
		}
		if !lexesAs(got, tt.v) {
			t.Errorf("%s does not read back as %q", got, tt.v)
		}
	}
	for _, name := range []string{"//x", "\xEF\xBB\xBFuser"} {
		if got := formatWord(name, 0, true); got != `"`+name+`"` {
			t.Errorf("name %q printed as %s", name, got)
		}
	}
}

// seedFS holds the fuzz and round-trip corpus where the configs expect to
// find their includes.
func seedFS(t testing.TB) memFS {
	return memFS{
		"/etc/nginx/mime.types":                     readTestdata(t, "mime.types"),
		"/etc/nginx/sites-enabled/default":          "server {\n\tlisten 80 default_server;\n\troot /var/www/html;\n\tlocation / {\n\t\ttry_files $uri $uri/ =404;\n\t}\n}\n",
		"/etc/nginx/modules-enabled/50-stream.conf": "load_module modules/ngx_stream_module.so;\n",
	}
}

func parseMem(t testing.TB, fsys memFS, src string) (*Config, error) {
	t.Helper()
	return parse("/etc/nginx/nginx.conf", []byte(src), true, Options{ConfDir: "/etc/nginx"}, fsys)
}

func TestPrintRoundTrip(t *testing.T) {
	for _, name := range []string{"debian-nginx.conf", "mime.types", "reverse-proxy.conf", "stream.conf"} {
		t.Run(name, func(t *testing.T) {
			fsys := seedFS(t)
			cfg, err := parseMem(t, fsys, readTestdata(t, name))
			if err != nil {
				t.Fatal(err)
			}
			if len(cfg.Directives) == 0 {
				t.Fatal("empty tree")
			}
			checkRoundTrip(t, fsys, cfg.Directives)
		})
	}
}

// checkRoundTrip prints dirs, parses the text again, and requires the same
// tree, and the same text when printed once more.
func checkRoundTrip(t testing.TB, fsys memFS, dirs []*Directive) {
	t.Helper()
	text := printString(t, dirs)
	again, err := parse("printed", []byte(text), true, Options{ConfDir: "/nonexistent"}, fsys)
	if err != nil {
		t.Fatalf("printed text does not parse: %v\n%s", err, text)
	}
	if a, b := strip(dirs), strip(again.Directives); !reflect.DeepEqual(a, b) {
		t.Fatalf("round trip changed the tree\nbefore:\n%s\nafter:\n%s\ntext:\n%s", dump(a), dump(b), text)
	}
	if text2 := printString(t, again.Directives); text2 != text {
		t.Fatalf("printing is not stable:\n%s\n---\n%s", text, text2)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestPrintWriteError(t *testing.T) {
	if err := Print(failWriter{}, mustParse(t, "a;").Directives); err == nil || err.Error() != "disk full" {
		t.Errorf("got %v", err)
	}
}
