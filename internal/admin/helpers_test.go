package admin

import (
	"crypto/sha1"
	"encoding/base64"
)

func sshaFor(pw, salt string) string {
	sum := sha1.Sum([]byte(pw + salt))
	return base64.StdEncoding.EncodeToString(append(sum[:], salt...))
}
