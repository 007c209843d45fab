package h1client

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// FuzzParseHead: no panics; a head that parses has a sane status and
// framing, and writing it out again parses to the same thing.
func FuzzParseHead(f *testing.F) {
	for _, s := range []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n",
		"HTTP/1.0 404 Not Found\nConnection: keep-alive\n\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\nX-A: 2\r\n\r\n",
		"HTTP/1.1 101 Switching\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n",
		"HTTP/1.1 200 OK\r\nx-lower: v \t\r\n\r\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if end := headEnd([]byte(s), 0); end > 0 {
			s = s[:end]
		}
		var resp http.Response
		fr, err := parseHead(s, &resp)
		if err != nil {
			return
		}
		if resp.StatusCode < 100 || resp.StatusCode > 999 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		if fr.length < -1 || (fr.chunked && fr.length >= 0) {
			t.Fatalf("framing %+v", fr)
		}
		if _, ok := resp.Header["Transfer-Encoding"]; ok {
			t.Fatal("Transfer-Encoding left in the header")
		}
		var resp2 http.Response
		fr2, err := parseHead(writeHead(&resp, fr), &resp2)
		if err != nil {
			t.Fatalf("re-parse of %q: %v", writeHead(&resp, fr), err)
		}
		if fr != fr2 || resp.StatusCode != resp2.StatusCode || resp.Proto != resp2.Proto || !reflect.DeepEqual(resp.Header, resp2.Header) {
			t.Fatalf("re-parse differs:\n%+v %+v\n%+v %+v", fr, resp, fr2, resp2)
		}
	})
}

// writeHead serialises a parsed head in canonical form.
func writeHead(resp *http.Response, fr framing) string {
	var b strings.Builder
	b.WriteString(resp.Proto + " " + resp.Status + "\r\n")
	keys := make([]string, 0, len(resp.Header))
	for k := range resp.Header {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, v := range resp.Header[k] {
			b.WriteString(k + ": " + v + "\r\n")
		}
	}
	if fr.chunked {
		b.WriteString("Transfer-Encoding: chunked\r\n")
	}
	b.WriteString("\r\n")
	return b.String()
}

// FuzzChunked: no panics; the decoder never yields more than it was
// given, stops exactly at the body's end, and what it decoded, encoded
// again, decodes to the same bytes.
func FuzzChunked(f *testing.F) {
	for _, s := range []string{
		"2\r\nok\r\n0\r\n\r\n",
		"2;ext=1\nok\n0\nTrailer: x\n\nrest",
		"ffffffffffffffff\r\n",
		"0\r\n\r\n",
		"1\r\na\r\n1\r\nb\r\n0\r\n\r\nHTTP/1.1",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out, rest, err := decodeChunked(in)
		if len(out) > len(in) {
			t.Fatalf("decoded %d bytes from %d", len(out), len(in))
		}
		if err != nil {
			return
		}
		if !bytes.HasSuffix(in, rest) {
			t.Fatal("the decoder read past the body's end")
		}
		out2, rest2, err := decodeChunked(encodeChunked(out))
		if err != nil || !bytes.Equal(out, out2) || len(rest2) != 0 {
			t.Fatalf("re-decode: %q %q %v, want %q", out2, rest2, err, out)
		}
	})
}

// decodeChunked decodes in with a small buffer (so that long lines are
// refused quickly) and returns the body and what follows it.
func decodeChunked(in []byte) (out, rest []byte, err error) {
	br := bufio.NewReaderSize(bytes.NewReader(in), 64)
	var cr chunkedReader
	cr.reset(br)
	out, err = io.ReadAll(io.LimitReader(&cr, int64(len(in))+1))
	if err != nil {
		return out, nil, err
	}
	if cr.state != chunkDone {
		return out, nil, errors.New("ended without the last chunk")
	}
	rest, _ = io.ReadAll(br)
	return out, rest, nil
}

func encodeChunked(b []byte) []byte {
	var out []byte
	for len(b) > 0 {
		n := min(len(b), 7)
		out = append(out, strconv.FormatInt(int64(n), 16)+"\r\n"...)
		out = append(out, b[:n]...)
		out = append(out, "\r\n"...)
		b = b[n:]
	}
	return append(out, "0\r\n\r\n"...)
}
