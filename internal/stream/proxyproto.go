package stream

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"strconv"
)

// PROXY protocol (haproxy.org/download/2.9/doc/proxy-protocol.txt):
// version 1 is one text line, version 2 a binary header. bunsan reads
// both from a front load balancer ("listen ... proxy_protocol") and
// sends version 1 to backends ("proxy_protocol on"), as nginx does.

// v2sig starts every version 2 header.
var v2sig = []byte("\r\n\r\n\x00\r\nQUIT\n")

// maxV1 is the longest version 1 line, CRLF included.
const maxV1 = 107

// errIncomplete means the buffer holds a prefix of a valid header: read
// more and parse again.
var errIncomplete = errors.New("incomplete PROXY protocol header")

// errBadProxy is a header that is not PROXY protocol.
var errBadProxy = errors.New("broken PROXY protocol header")

// proxyHeader is a parsed PROXY header. Local (v2 LOCAL, v1 UNKNOWN,
// or an unspecified family) carries no addresses: the connection's own
// apply.
type proxyHeader struct {
	Src, Dst netip.AddrPort
	Local    bool
}

// parseProxy parses a header at the start of b and returns it with its
// length. It returns errIncomplete when b is a proper prefix of a
// header, errBadProxy when b cannot start one.
func parseProxy(b []byte) (proxyHeader, int, error) {
	if len(b) == 0 {
		return proxyHeader{}, 0, errIncomplete
	}
	if b[0] == v2sig[0] {
		return parseProxyV2(b)
	}
	return parseProxyV1(b)
}

func parseProxyV1(b []byte) (proxyHeader, int, error) {
	const prefix = "PROXY "
	if n := min(len(b), len(prefix)); !bytes.Equal(b[:n], []byte(prefix)[:n]) {
		return proxyHeader{}, 0, errBadProxy
	}
	end := bytes.Index(b, []byte("\r\n"))
	if end < 0 {
		if len(b) >= maxV1 || bytes.IndexByte(b, '\n') >= 0 {
			return proxyHeader{}, 0, errBadProxy
		}
		return proxyHeader{}, 0, errIncomplete
	}
	if end+2 > maxV1 {
		return proxyHeader{}, 0, errBadProxy
	}
	f := bytes.Split(b[len(prefix):end], []byte(" "))
	if len(f) >= 1 && string(f[0]) == "UNKNOWN" {
		return proxyHeader{Local: true}, end + 2, nil
	}
	if len(f) != 5 || (string(f[0]) != "TCP4" && string(f[0]) != "TCP6") {
		return proxyHeader{}, 0, errBadProxy
	}
	src, err1 := netip.ParseAddr(string(f[1]))
	dst, err2 := netip.ParseAddr(string(f[2]))
	sp, err3 := parsePort(f[3])
	dp, err4 := parsePort(f[4])
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil ||
		src.Is4() != (string(f[0]) == "TCP4") || dst.Is4() != src.Is4() || src.Zone() != "" || dst.Zone() != "" {
		return proxyHeader{}, 0, errBadProxy
	}
	return proxyHeader{Src: netip.AddrPortFrom(src, sp), Dst: netip.AddrPortFrom(dst, dp)}, end + 2, nil
}

// parsePort reads a decimal port without sign or leading zeros.
func parsePort(b []byte) (uint16, error) {
	if len(b) == 0 || len(b) > 5 || (len(b) > 1 && b[0] == '0') {
		return 0, errBadProxy
	}
	n, err := strconv.ParseUint(string(b), 10, 16)
	if err != nil {
		return 0, errBadProxy
	}
	return uint16(n), nil
}

func parseProxyV2(b []byte) (proxyHeader, int, error) {
	if n := min(len(b), len(v2sig)); !bytes.Equal(b[:n], v2sig[:n]) {
		return proxyHeader{}, 0, errBadProxy
	}
	if len(b) < 16 {
		return proxyHeader{}, 0, errIncomplete
	}
	verCmd, fam := b[12], b[13]
	size := 16 + int(binary.BigEndian.Uint16(b[14:16]))
	if verCmd>>4 != 2 || verCmd&0xf > 1 {
		return proxyHeader{}, 0, errBadProxy
	}
	if len(b) < size {
		return proxyHeader{}, 0, errIncomplete
	}
	body := b[16:size]
	if verCmd&0xf == 0 { // LOCAL: a health check from the balancer itself
		return proxyHeader{Local: true}, size, nil
	}
	switch fam >> 4 { // address family; the low nibble is the transport
	case 1:
		if len(body) < 12 {
			return proxyHeader{}, 0, errBadProxy
		}
		src := netip.AddrFrom4([4]byte(body[0:4]))
		dst := netip.AddrFrom4([4]byte(body[4:8]))
		return proxyHeader{
			Src: netip.AddrPortFrom(src, binary.BigEndian.Uint16(body[8:10])),
			Dst: netip.AddrPortFrom(dst, binary.BigEndian.Uint16(body[10:12])),
		}, size, nil
	case 2:
		if len(body) < 36 {
			return proxyHeader{}, 0, errBadProxy
		}
		src := netip.AddrFrom16([16]byte(body[0:16]))
		dst := netip.AddrFrom16([16]byte(body[16:32]))
		return proxyHeader{
			Src: netip.AddrPortFrom(src, binary.BigEndian.Uint16(body[32:34])),
			Dst: netip.AddrPortFrom(dst, binary.BigEndian.Uint16(body[34:36])),
		}, size, nil
	}
	// AF_UNSPEC or AF_UNIX: no usable addresses.
	return proxyHeader{Local: true}, size, nil
}

// appendProxyV1 appends the version 1 line nginx's proxy_protocol on
// sends: client address, server address, client port, server port.
func appendProxyV1(b []byte, src, dst netip.AddrPort) []byte {
	s, d := src.Addr().Unmap(), dst.Addr().Unmap()
	if !s.IsValid() || !d.IsValid() || s.Is4() != d.Is4() {
		return append(b, "PROXY UNKNOWN\r\n"...)
	}
	b = append(b, "PROXY TCP"...)
	if s.Is4() {
		b = append(b, '4')
	} else {
		b = append(b, '6')
	}
	b = append(b, ' ')
	b = s.WithZone("").AppendTo(b)
	b = append(b, ' ')
	b = d.WithZone("").AppendTo(b)
	b = append(b, ' ')
	b = strconv.AppendUint(b, uint64(src.Port()), 10)
	b = append(b, ' ')
	b = strconv.AppendUint(b, uint64(dst.Port()), 10)
	return append(b, "\r\n"...)
}

// appendProxyV2 appends a version 2 PROXY header for a TCP connection
// (proxy_protocol_version 2). Addresses of different families, which a
// header cannot carry, give a LOCAL header, as HAProxy sends.
func appendProxyV2(b []byte, src, dst netip.AddrPort) []byte {
	b = append(b, v2sig...)
	s, d := src.Addr().Unmap(), dst.Addr().Unmap()
	switch {
	case s.Is4() && d.Is4():
		b = append(b, 0x21, 0x11, 0, 12)
		b = append(b, s.AsSlice()...)
		b = append(b, d.AsSlice()...)
	case s.Is6() && d.Is6():
		b = append(b, 0x21, 0x21, 0, 36)
		b = append(b, s.AsSlice()...)
		b = append(b, d.AsSlice()...)
	default:
		return append(b, 0x20, 0x00, 0, 0)
	}
	b = binary.BigEndian.AppendUint16(b, src.Port())
	return binary.BigEndian.AppendUint16(b, dst.Port())
}
