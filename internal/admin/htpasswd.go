package admin

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Htpasswd is a user file of auth_basic_user_file: user name → password
// hash, in the formats nginx accepts (see Verify).
type Htpasswd map[string]string

// ParseHtpasswd reads "user:hash[:comment]" lines; empty lines and lines
// starting with "#" are skipped, as nginx skips them.
func ParseHtpasswd(r io.Reader) (Htpasswd, error) {
	users := Htpasswd{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if line == "" || line[0] == '#' {
			continue
		}
		user, rest, ok := strings.Cut(line, ":")
		if !ok || user == "" {
			return nil, fmt.Errorf("line %d: want user:password", n)
		}
		hash, _, _ := strings.Cut(rest, ":")
		users[user] = hash
	}
	return users, sc.Err()
}

// Verify reports whether password matches hash in one of the formats
// nginx's auth_basic accepts: "{PLAIN}text", "{SHA}base64(sha1)",
// "{SSHA}base64(sha1+salt)", "$apr1$" and "$1$" (MD5-crypt), "$5$" and
// "$6$" (SHA-crypt), "$2y$", "$2a$" and "$2b$" (bcrypt, htpasswd -B).
// DES crypt (13 characters, no prefix; htpasswd -d) is not implemented
// and verifies nothing.
func Verify(hash, password string) bool {
	if len(password) > maxPassword {
		return false
	}
	switch {
	case strings.HasPrefix(hash, "{PLAIN}"):
		return equal(hash[len("{PLAIN}"):], password)
	case strings.HasPrefix(hash, "{SHA}"):
		sum := sha1.Sum([]byte(password))
		return equal(hash[len("{SHA}"):], base64.StdEncoding.EncodeToString(sum[:]))
	case strings.HasPrefix(hash, "{SSHA}"):
		raw, err := base64.StdEncoding.DecodeString(hash[len("{SSHA}"):])
		if err != nil || len(raw) < sha1.Size {
			return false
		}
		h := sha1.New()
		h.Write([]byte(password))
		h.Write(raw[sha1.Size:])
		return subtle.ConstantTimeCompare(h.Sum(nil), raw[:sha1.Size]) == 1
	case strings.HasPrefix(hash, "$apr1$"):
		return equal(hash, md5Crypt(password, hash, "$apr1$"))
	case strings.HasPrefix(hash, "$1$"):
		return equal(hash, md5Crypt(password, hash, "$1$"))
	case strings.HasPrefix(hash, "$5$"):
		return equal(hash, shaCrypt(password, hash, false))
	case strings.HasPrefix(hash, "$6$"):
		return equal(hash, shaCrypt(password, hash, true))
	case strings.HasPrefix(hash, "$2y$"), strings.HasPrefix(hash, "$2a$"), strings.HasPrefix(hash, "$2b$"):
		// The three are the same algorithm; the letter only says which
		// implementation's bug the hash is free of.
		return bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil
	}
	return false
}

// maxPassword bounds what a check hashes: SHA-crypt's work grows with
// the square of the password's length, and the password comes from the
// request.
const maxPassword = 1024

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// userFiles caches parsed user files by path, reread when the file's
// size or modification time changes: nginx reads the file on every
// request, so edits apply at once; this keeps that without parsing it
// each time.
var userFiles struct {
	mu sync.Mutex
	m  map[string]cachedUsers
}

type cachedUsers struct {
	mod   time.Time
	size  int64
	users Htpasswd
}

// LoadHtpasswd reads the user file at path, from the cache when the file
// has not changed.
func LoadHtpasswd(path string) (Htpasswd, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	userFiles.mu.Lock()
	c, ok := userFiles.m[path]
	userFiles.mu.Unlock()
	if ok && c.mod.Equal(st.ModTime()) && c.size == st.Size() {
		return c.users, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	users, err := ParseHtpasswd(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	userFiles.mu.Lock()
	if userFiles.m == nil {
		userFiles.m = map[string]cachedUsers{}
	}
	userFiles.m[path] = cachedUsers{mod: st.ModTime(), size: st.Size(), users: users}
	userFiles.mu.Unlock()
	return users, nil
}
