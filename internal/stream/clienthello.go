package stream

import (
	"encoding/binary"
	"errors"
	"strings"
)

// errNotTLS means the bytes are not a TLS ClientHello; ssl_preread then
// leaves its variables empty and the session goes on, as in nginx.
var errNotTLS = errors.New("not a TLS ClientHello")

// clientHello is what ssl_preread takes from a ClientHello.
type clientHello struct {
	ServerName string   // $ssl_preread_server_name (lower case)
	ALPN       []string // $ssl_preread_alpn_protocols
	Version    uint16   // highest version offered: $ssl_preread_protocol
}

// parseClientHello reads the ClientHello at the start of b, which may be
// split over several TLS records. It returns errIncomplete when more
// bytes are needed and errNotTLS when b cannot be one.
func parseClientHello(b []byte) (clientHello, error) {
	// Gather the handshake message from the records' payloads.
	var hs []byte
	for {
		if len(b) < 5 {
			if len(b) > 0 && b[0] != 0x16 {
				return clientHello{}, errNotTLS
			}
			return clientHello{}, errIncomplete
		}
		if b[0] != 0x16 || b[1] != 3 {
			return clientHello{}, errNotTLS
		}
		n := int(binary.BigEndian.Uint16(b[3:5]))
		if n == 0 || n > 1<<14 {
			return clientHello{}, errNotTLS
		}
		if len(b) < 5+n {
			if len(hs) == 0 && len(b) > 5 && b[5] != 1 {
				return clientHello{}, errNotTLS
			}
			return clientHello{}, errIncomplete
		}
		hs = append(hs, b[5:5+n]...)
		b = b[5+n:]
		if len(hs) >= 4 {
			if hs[0] != 1 {
				return clientHello{}, errNotTLS
			}
			size := 4 + (int(hs[1])<<16 | int(hs[2])<<8 | int(hs[3]))
			if len(hs) >= size {
				return parseHelloBody(hs[4:size])
			}
			if size > 64<<10 {
				return clientHello{}, errNotTLS
			}
		}
	}
}

// reader is a bounds-checked cursor over a ClientHello.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) bytes(n int) []byte {
	if r.bad || n > len(r.b) {
		r.bad = true
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *reader) u8() int {
	b := r.bytes(1)
	if b == nil {
		return 0
	}
	return int(b[0])
}

func (r *reader) u16() int {
	b := r.bytes(2)
	if b == nil {
		return 0
	}
	return int(binary.BigEndian.Uint16(b))
}

func parseHelloBody(body []byte) (clientHello, error) {
	var h clientHello
	r := &reader{b: body}
	h.Version = uint16(r.u16())
	r.bytes(32)      // random
	r.bytes(r.u8())  // session id
	r.bytes(r.u16()) // cipher suites
	r.bytes(r.u8())  // compression methods
	if r.bad {
		return clientHello{}, errNotTLS
	}
	if len(r.b) == 0 {
		return h, nil // no extensions
	}
	ext := &reader{b: r.bytes(r.u16())}
	if r.bad {
		return clientHello{}, errNotTLS
	}
	for !ext.bad && len(ext.b) > 0 {
		typ := ext.u16()
		data := &reader{b: ext.bytes(ext.u16())}
		if ext.bad {
			break
		}
		switch typ {
		case 0: // server_name
			list := &reader{b: data.bytes(data.u16())}
			for !list.bad && len(list.b) > 0 {
				kind := list.u8()
				name := list.bytes(list.u16())
				if kind == 0 && !list.bad && h.ServerName == "" {
					h.ServerName = strings.ToLower(string(name))
				}
			}
		case 16: // application_layer_protocol_negotiation
			list := &reader{b: data.bytes(data.u16())}
			for !list.bad && len(list.b) > 0 {
				p := list.bytes(list.u8())
				if !list.bad {
					h.ALPN = append(h.ALPN, string(p))
				}
			}
		case 43: // supported_versions: the highest one counts
			list := &reader{b: data.bytes(data.u8())}
			for !list.bad && len(list.b) >= 2 {
				v := uint16(list.u16())
				if v&0x0f0f != 0x0a0a && v > h.Version && v <= 0x0304 { // skip GREASE
					h.Version = v
				}
			}
		}
	}
	if ext.bad {
		return clientHello{}, errNotTLS
	}
	return h, nil
}

// versionName is $ssl_preread_protocol's text for a version.
func versionName(v uint16) string {
	switch v {
	case 0x0300:
		return "SSLv3"
	case 0x0301:
		return "TLSv1"
	case 0x0302:
		return "TLSv1.1"
	case 0x0303:
		return "TLSv1.2"
	case 0x0304:
		return "TLSv1.3"
	}
	return ""
}
