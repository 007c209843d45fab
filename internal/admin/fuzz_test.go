package admin

import (
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"bunsan/internal/config"
	"bunsan/internal/upstream"
)

// FuzzAPIBody sends untrusted bodies and paths to a writable API: it must
// answer with a status and never panic, and the group must stay usable.
func FuzzAPIBody(f *testing.F) {
	f.Add("POST", "/api/9/http/upstreams/u/servers", `{"server":"10.0.0.3:80","weight":2}`)
	f.Add("PATCH", "/api/9/http/upstreams/u/servers/0", `{"drain":true,"fail_timeout":"1m30s"}`)
	f.Add("PATCH", "/api/9/http/upstreams/u/servers/1", `{"server":[1],"x":{}}`)
	f.Add("DELETE", "/api/9/http/upstreams/u/servers/0", ``)
	f.Add("GET", "/api//9//http/upstreams/u/", ``)
	f.Fuzz(func(t *testing.T, method, path, body string) {
		u, err := url.ParseRequestURI(path)
		if err != nil || !strings.HasPrefix(path, "/") {
			return
		}
		switch method {
		case "GET", "POST", "PATCH", "DELETE", "PUT":
		default:
			return
		}
		g, err := upstream.NewStore(nil).Build(upstream.Spec{Name: "u", Servers: []upstream.ServerSpec{
			{Addr: "10.0.0.1:80", Weight: 1, MaxFails: 1}, {Addr: "10.0.0.2:80", Weight: 1, MaxFails: 1},
		}})
		if err != nil {
			t.Fatal(err)
		}
		h := New(&config.API{Write: true, Prefix: "/api"}, Options{HTTP: func() []*upstream.Group { return []*upstream.Group{g} }})
		w := httptest.NewRecorder()
		r := httptest.NewRequest(method, "/", strings.NewReader(body))
		r.URL = u
		h.ServeHTTP(w, r)
		if w.Code < 200 || w.Code > 599 {
			t.Fatalf("status %d", w.Code)
		}
		if p, err := g.Pick(&upstream.PickRequest{}); err == nil {
			g.Done(p, upstream.Outcome{})
		}
	})
}

// FuzzHtpasswd: user files and passwords come from outside.
func FuzzHtpasswd(f *testing.F) {
	f.Add("u:$apr1$x1$hES3g.N1ayPmiFRhcskH//\n", "correct horse")
	f.Add("u:$6$rounds=1000$s$abc\n", "pw")
	f.Add("u:{SSHA}AAAA\n#c\n", "")
	f.Fuzz(func(t *testing.T, file, password string) {
		users, err := ParseHtpasswd(strings.NewReader(file))
		if err != nil {
			return
		}
		// SHA-crypt's work grows with the square of the password's length;
		// Verify bounds it (maxPassword), a fuzz run needs less.
		password = password[:min(len(password), 64)]
		for _, hash := range users {
			if expensive(hash) {
				continue // an administrator's choice of work factor, not a bug
			}
			Verify(hash, password)
		}
	})
}

// expensive reports a hash whose work factor makes one check take longer
// than a fuzz run may: bcrypt cost above 8, SHA-crypt rounds above 5,000
// (the default).
func expensive(hash string) bool {
	if cost, err := bcrypt.Cost([]byte(hash)); err == nil {
		return cost > 8
	}
	if rest, ok := strings.CutPrefix(hash[min(3, len(hash)):], "rounds="); ok && (strings.HasPrefix(hash, "$5$") || strings.HasPrefix(hash, "$6$")) {
		n, _ := strconv.Atoi(strings.SplitN(rest, "$", 2)[0])
		return n > 5000 || n < 0 || len(strings.SplitN(rest, "$", 2)[0]) > 9
	}
	return false
}
