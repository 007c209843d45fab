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
// With framing set, the fields commit writes itself are skipped.
func writeFields(bw *bufio.Writer, h http.Header, framing bool) {
	for k, vv := range h {
		if framing && isFramingField(k) || !httpwire.IsTokenString(k) {
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

var newlineToSpace = strings.NewReplacer("\n", " ", "\r", " ")

// isFramingField reports the fields commit writes from the response's
// own framing (Content-Length, Transfer-Encoding, Connection).
func isFramingField(k string) bool {
	switch k {
	case "Content-Length", "Transfer-Encoding", "Connection":
		return true
	}
	return false
}

// plainEnd: an ASCII byte TrimSpace keeps (it trims Unicode spaces too,
// so bytes of multi-byte characters take the slow path).
func plainEnd(b byte) bool { return b > ' ' && b < 0x80 }

func cleanValue(v string) string {
	// Nearly every value has no line break and no space at either end:
	// one pass finds that out.
	clean := len(v) == 0 || plainEnd(v[0]) && plainEnd(v[len(v)-1])
	for i := 0; clean && i < len(v); i++ {
		clean = v[i] != '\r' && v[i] != '\n'
	}
	if clean {
		return v
	}
	if strings.ContainsAny(v, "\r\n") {
		v = newlineToSpace.Replace(v)
	}
	return strings.TrimSpace(v)
}
