package admin

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// The hashes below were made with `openssl passwd` (OpenSSL 3.0).
func TestVerify(t *testing.T) {
	const long = "a long password that is more than sixty four bytes long for the repeated block path, yes"
	tests := []struct {
		hash, password string
		ok             bool
	}{
		{"{PLAIN}secret", "secret", true},
		{"{PLAIN}secret", "Secret", false},
		{"{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=", "secret", true},
		{"{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=", "secre", false},
		{"$apr1$abcdefgh$sIQmFnT1CuEXAsyjuXjUX/", "correct horse", true},
		{"$apr1$abcdefgh$sIQmFnT1CuEXAsyjuXjUX/", "correct horsE", false},
		{"$apr1$x1$hES3g.N1ayPmiFRhcskH//", "correct horse", true},
		{"$1$saltsalt$NuzA7WTAelpl95xgBGWN60", "correct horse", true},
		{"$5$saltstring$vc6YOOogU4kWVvwga8e9zTFgKcy4tb5LaPxIiPJzqEC", "correct horse", true},
		{"$5$rounds=10000$roundsalt$IsNg4kan91gDPVYJZtpjxSLAKyJBEYXaTP6ywiQaQh/", "pw", true},
		{"$6$saltstring$.r0X7ub5wGR2v4Xz7svCIozfnlorFh19V89t8KC9Umd81uGhFgsyTRNyzQDXDIm17fFcR9z3z7oBNdsyYBbtm/", "correct horse", true},
		{"$6$0123456789abcdef$lDHzA5IdO41viXIs6llkDKq4Uh2VG9JXIYJ.taq2zlNFqBnKQ0/fOUW0Zoz49ZnOpe2ACY.PoF6wosL.jL3Af0", "correct horse", true},
		{"$6$s$gsMpQH9j7TTFSRLDYmd6myzAE51AOEuLTdDtSUtGp7HIkF9mHfHl0zAcscFoXI/3u2xHFAAecSsvFxbgYJCHs/", long, true},
		{"$6$s$gsMpQH9j7TTFSRLDYmd6myzAE51AOEuLTdDtSUtGp7HIkF9mHfHl0zAcscFoXI/3u2xHFAAecSsvFxbgYJCHs/", long + ".", false},
		{"$2y$05$abcdefghijklmnopqrstuu5s2v8.iXieOjg/.AySBTTZIIVFJeBui", "x", false},
		{"plaintext", "plaintext", false},                                         // nginx would try crypt(3) DES
		{"{PLAIN}" + strings.Repeat("x", 2000), strings.Repeat("x", 2000), false}, // longer than maxPassword
	}
	for _, tt := range tests {
		if got := Verify(tt.hash, tt.password); got != tt.ok {
			t.Errorf("Verify(%q, %q) = %v, want %v", tt.hash, tt.password, got, tt.ok)
		}
	}
}

func TestSSHA(t *testing.T) {
	// {SSHA} is base64(sha1(password + salt) + salt).
	if !Verify("{SSHA}"+sshaFor("pw", "salt"), "pw") || Verify("{SSHA}"+sshaFor("pw", "salt"), "px") {
		t.Fatal("SSHA")
	}
}

func TestParseHtpasswd(t *testing.T) {
	users, err := ParseHtpasswd(strings.NewReader("# comment\n\nalice:{PLAIN}a:Alice A.\r\nbob:$apr1$x1$hES3g.N1ayPmiFRhcskH//\n"))
	if err != nil {
		t.Fatal(err)
	}
	if users["alice"] != "{PLAIN}a" || users["bob"] != "$apr1$x1$hES3g.N1ayPmiFRhcskH//" || len(users) != 2 {
		t.Fatalf("users %v", users)
	}
	if _, err := ParseHtpasswd(strings.NewReader("no colon\n")); err == nil {
		t.Fatal("want an error for a line without a colon")
	}
}

func TestCheckBasicAndReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users")
	write := func(s string) {
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("alice:{PLAIN}one\n")
	check := func(user, pass string) bool {
		users, err := LoadHtpasswd(path)
		if err != nil {
			t.Fatal(err)
		}
		r := httptest.NewRequest("GET", "/", nil)
		if user != "" {
			r.SetBasicAuth(user, pass)
		}
		return CheckBasic(users, r)
	}
	if !check("alice", "one") || check("alice", "two") || check("mallory", "one") || check("", "") {
		t.Fatal("first file")
	}
	// A changed file applies without a reload (the size differs, so the
	// cache notices even within the file system's time resolution).
	write("alice:{PLAIN}two22\n")
	if check("alice", "one") || !check("alice", "two22") {
		t.Fatal("changed file not reread")
	}
}

// TestBcrypt: htpasswd -B writes "$2y$"; Go's bcrypt writes "$2a$"; the
// algorithm is the same, so a hash made here checks under every prefix.
func TestBcrypt(t *testing.T) {
	h, err := bcrypt.GenerateFromPassword([]byte("correct horse"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	for _, prefix := range []string{"$2a$", "$2b$", "$2y$"} {
		hash := prefix + string(h[4:])
		if !Verify(hash, "correct horse") || Verify(hash, "correct horsE") {
			t.Errorf("%s: wrong verdict", prefix)
		}
	}
}
