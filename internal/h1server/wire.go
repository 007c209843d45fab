package h1server

import (
	"bufio"
	"net/http"
	"strings"

	"bunsan/internal/httpwire"
)

// The response head on the wire, as net/http writes it.

func writeStatusLine(bw *bufio.Writer, minor, code int) {
	if minor == 0 {
		bw.WriteString("HTTP/1.0 ")
	} else {
		bw.WriteString("HTTP/1.1 ")
	}
	writeCode(bw, code)
	bw.WriteByte(' ')
	if t := http.StatusText(code); t != "" {
		bw.WriteString(t)
	} else {
		bw.WriteString("status code ") // net/http's text for unknown codes
		writeCode(bw, code)
	}
	bw.WriteString("\r\n")
}

// writeCode writes a three-digit status without formatting garbage.
func writeCode(bw *bufio.Writer, code int) {
	bw.WriteByte(byte('0' + code/100))
	bw.WriteByte(byte('0' + code/10%10))
	bw.WriteByte(byte('0' + code%10))
}

// writeFields writes the handler's fields as net/http would: invalid
// names dropped, line breaks in values turned into spaces.
func writeFields(bw *bufio.Writer, h http.Header, skip map[string]bool) {
	for k, vv := range h {
		if skip[k] || !validFieldName(k) {
			continue
		}
		for _, v := range vv {
			bw.WriteString(k)
			bw.WriteString(": ")
			bw.WriteString(cleanValue(v))
			bw.WriteString("\r\n")
		}
	}
}

func validFieldName(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		if !httpwire.IsToken(k[i]) {
			return false
		}
	}
	return true
}

var newlineToSpace = strings.NewReplacer("\n", " ", "\r", " ")

func cleanValue(v string) string {
	if strings.ContainsAny(v, "\r\n") {
		v = newlineToSpace.Replace(v)
	}
	return strings.TrimSpace(v)
}
