package admin

import (
	"crypto/md5"
	"crypto/sha256"
	"crypto/sha512"
	"hash"
	"strconv"
	"strings"
)

// The crypt(3) formats of htpasswd files, written from their published
// descriptions: MD5-crypt (Poul-Henning Kamp's, with Apache's "$apr1$"
// magic) and SHA-crypt (Ulrich Drepper's "$5$"/"$6$" specification).
// Each returns the full hash string for password with the salt (and
// rounds) taken from setting, so a check compares it with setting.

const crypt64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// b64 appends n characters of crypt's base-64 for the 24-bit value v,
// least significant first.
func b64(out []byte, v uint32, n int) []byte {
	for ; n > 0; n-- {
		out = append(out, crypt64[v&0x3f])
		v >>= 6
	}
	return out
}

// cryptSalt is the salt of setting after magic: up to max bytes, ending
// at the next "$".
func cryptSalt(setting, magic string, maxLen int) string {
	s := strings.TrimPrefix(setting, magic)
	if i := strings.IndexByte(s, '$'); i >= 0 {
		s = s[:i]
	}
	if len(s) > maxLen {
		s = s[:maxLen]
	}
	return s
}

// md5Crypt is MD5-crypt with the given magic ("$1$" or "$apr1$").
func md5Crypt(password, setting, magic string) string {
	pw := []byte(password)
	salt := []byte(cryptSalt(setting, magic, 8))

	alt := md5.New()
	alt.Write(pw)
	alt.Write(salt)
	alt.Write(pw)
	altSum := alt.Sum(nil)

	ctx := md5.New()
	ctx.Write(pw)
	ctx.Write([]byte(magic))
	ctx.Write(salt)
	for i := len(pw); i > 0; i -= 16 {
		ctx.Write(altSum[:min(i, 16)])
	}
	for i := len(pw); i > 0; i >>= 1 {
		if i&1 != 0 {
			ctx.Write([]byte{0})
		} else {
			ctx.Write(pw[:1])
		}
	}
	final := ctx.Sum(nil)
	// 1000 rounds, to slow down guessing.
	final = cryptRounds(md5.New, 1000, pw, salt, final)
	out := []byte(magic + string(salt) + "$")
	f := func(a, b, c int) uint32 { return uint32(final[a])<<16 | uint32(final[b])<<8 | uint32(final[c]) }
	out = b64(out, f(0, 6, 12), 4)
	out = b64(out, f(1, 7, 13), 4)
	out = b64(out, f(2, 8, 14), 4)
	out = b64(out, f(3, 9, 15), 4)
	out = b64(out, f(4, 10, 5), 4)
	out = b64(out, uint32(final[11]), 2)
	return string(out)
}

// shaCrypt is SHA-crypt: SHA-512 ("$6$") when sha512 is set, else
// SHA-256 ("$5$"), with "rounds=N$" if the setting has it.
func shaCrypt(password, setting string, is512 bool) string {
	magic, newHash := "$5$", sha256.New
	if is512 {
		magic, newHash = "$6$", sha512.New
	}
	rest := strings.TrimPrefix(setting, magic)
	rounds, custom := 5000, false
	if r, ok := strings.CutPrefix(rest, "rounds="); ok {
		if i := strings.IndexByte(r, '$'); i > 0 {
			if n, err := strconv.Atoi(r[:i]); err == nil {
				rounds, custom = min(max(n, 1000), 999999999), true
				rest = r[i+1:]
			}
		}
	}
	pw := []byte(password)
	salt := []byte(cryptSalt(rest, "", 16))

	sum := func(parts ...[]byte) []byte {
		h := newHash()
		for _, p := range parts {
			h.Write(p)
		}
		return h.Sum(nil)
	}
	b := sum(pw, salt, pw)
	a := newHash()
	a.Write(pw)
	a.Write(salt)
	writeRepeated(a, b, len(pw))
	for i := len(pw); i > 0; i >>= 1 {
		if i&1 != 0 {
			a.Write(b)
		} else {
			a.Write(pw)
		}
	}
	c := a.Sum(nil)

	dp := newHash()
	for range len(pw) {
		dp.Write(pw)
	}
	p := repeatTo(dp.Sum(nil), len(pw))
	ds := newHash()
	for range 16 + int(c[0]) {
		ds.Write(salt)
	}
	s := repeatTo(ds.Sum(nil), len(salt))

	c = cryptRounds(newHash, rounds, p, s, c)

	out := []byte(magic)
	if custom {
		out = append(out, "rounds="+strconv.Itoa(rounds)+"$"...)
	}
	out = append(out, salt...)
	out = append(out, '$')
	f := func(x, y, z int) uint32 { return uint32(c[x])<<16 | uint32(c[y])<<8 | uint32(c[z]) }
	if is512 {
		for _, t := range [][3]int{{0, 21, 42}, {22, 43, 1}, {44, 2, 23}, {3, 24, 45}, {25, 46, 4},
			{47, 5, 26}, {6, 27, 48}, {28, 49, 7}, {50, 8, 29}, {9, 30, 51}, {31, 52, 10},
			{53, 11, 32}, {12, 33, 54}, {34, 55, 13}, {56, 14, 35}, {15, 36, 57}, {37, 58, 16},
			{59, 17, 38}, {18, 39, 60}, {40, 61, 19}, {62, 20, 41}} {
			out = b64(out, f(t[0], t[1], t[2]), 4)
		}
		out = b64(out, uint32(c[63]), 2)
	} else {
		for _, t := range [][3]int{{0, 10, 20}, {21, 1, 11}, {12, 22, 2}, {3, 13, 23}, {24, 4, 14},
			{15, 25, 5}, {6, 16, 26}, {27, 7, 17}, {18, 28, 8}, {9, 19, 29}} {
			out = b64(out, f(t[0], t[1], t[2]), 4)
		}
		out = b64(out, uint32(c[31])<<8|uint32(c[30]), 3)
	}
	return string(out)
}

// writeRepeated writes n bytes of b, repeated, to h.
func writeRepeated(h hash.Hash, b []byte, n int) {
	for ; n > len(b); n -= len(b) {
		h.Write(b)
	}
	h.Write(b[:n])
}

// repeatTo is b repeated to n bytes.
func repeatTo(b []byte, n int) []byte {
	out := make([]byte, 0, n)
	for len(out) < n {
		out = append(out, b[:min(len(b), n-len(out))]...)
	}
	return out
}

// cryptRounds is the stretching loop MD5-crypt and SHA-crypt share: each
// round hashes the previous digest c with the password p and salt s in an
// order set by the round number (odd/even, multiples of 3 and 7).
func cryptRounds(newHash func() hash.Hash, rounds int, p, s, c []byte) []byte {
	for r := range rounds {
		h := newHash()
		if r&1 != 0 {
			h.Write(p)
		} else {
			h.Write(c)
		}
		if r%3 != 0 {
			h.Write(s)
		}
		if r%7 != 0 {
			h.Write(p)
		}
		if r&1 != 0 {
			h.Write(c)
		} else {
			h.Write(p)
		}
		c = h.Sum(nil)
	}
	return c
}
