package stream

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"bunsan/internal/config"
)

// varID names a built-in stream variable.
type varID uint8

const (
	vNone varID = iota
	vBinaryRemoteAddr
	vBytesReceived
	vBytesSent
	vConnection
	vHostname
	vMsec
	vPID
	vProtocol
	vPPAddr
	vPPPort
	vPPServerAddr
	vPPServerPort
	vRealIPRemoteAddr
	vRealIPRemotePort
	vRemoteAddr
	vRemotePort
	vServerAddr
	vServerPort
	vSessionTime
	vStatus
	vTimeISO8601
	vTimeLocal
	vPrereadServerName
	vPrereadProtocol
	vPrereadALPN
	vSSLServerName
	vSSLProtocol
	vUpstreamAddr
	vUpstreamBytesSent
	vUpstreamBytesReceived
	vUpstreamConnectTime
	vUpstreamFirstByteTime
	vUpstreamSessionTime
)

var varIDs = map[string]varID{
	"binary_remote_addr": vBinaryRemoteAddr, "bytes_received": vBytesReceived,
	"bytes_sent": vBytesSent, "connection": vConnection, "hostname": vHostname,
	"msec": vMsec, "pid": vPID, "protocol": vProtocol,
	"proxy_protocol_addr": vPPAddr, "proxy_protocol_port": vPPPort,
	"proxy_protocol_server_addr": vPPServerAddr, "proxy_protocol_server_port": vPPServerPort,
	"realip_remote_addr": vRealIPRemoteAddr, "realip_remote_port": vRealIPRemotePort,
	"remote_addr": vRemoteAddr, "remote_port": vRemotePort,
	"server_addr": vServerAddr, "server_port": vServerPort,
	"session_time": vSessionTime, "status": vStatus,
	"time_iso8601": vTimeISO8601, "time_local": vTimeLocal,
	"ssl_preread_server_name": vPrereadServerName, "ssl_preread_protocol": vPrereadProtocol,
	"ssl_preread_alpn_protocols": vPrereadALPN,
	"ssl_server_name":            vSSLServerName, "ssl_protocol": vSSLProtocol,
	"upstream_addr": vUpstreamAddr, "upstream_bytes_sent": vUpstreamBytesSent,
	"upstream_bytes_received": vUpstreamBytesReceived, "upstream_connect_time": vUpstreamConnectTime,
	"upstream_first_byte_time": vUpstreamFirstByteTime, "upstream_session_time": vUpstreamSessionTime,
}

// part is one piece of a template: literal text, a built-in variable or
// a map.
type part struct {
	lit string
	v   varID
	m   *mapVar
}

// template is text with variables, compiled once per load.
type template struct {
	parts []part
}

// compile parses text ("$name", "${name}") against the built-ins and the
// maps of the snapshot.
func compile(text string, maps map[string]*mapVar) (*template, error) {
	t := &template{}
	lit := strings.Builder{}
	flush := func() {
		if lit.Len() > 0 {
			t.parts = append(t.parts, part{lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c != '$' {
			lit.WriteByte(c)
			continue
		}
		j := i + 1
		brace := j < len(text) && text[j] == '{'
		if brace {
			j++
		}
		k := j
		for k < len(text) && (text[k] == '_' || text[k] >= 'a' && text[k] <= 'z' || text[k] >= 'A' && text[k] <= 'Z' || text[k] >= '0' && text[k] <= '9') {
			k++
		}
		if k == j || (brace && (k >= len(text) || text[k] != '}')) {
			return nil, fmt.Errorf("invalid variable in %q", text)
		}
		name := text[j:k]
		flush()
		switch {
		case maps[name] != nil:
			t.parts = append(t.parts, part{m: maps[name]})
		case varIDs[name] != vNone:
			t.parts = append(t.parts, part{v: varIDs[name]})
		default:
			return nil, fmt.Errorf("unknown variable \"$%s\"", name)
		}
		if brace {
			k++
		}
		i = k - 1
	}
	flush()
	return t, nil
}

// eval appends the template's value for session s to b.
func (t *template) eval(s *session, b []byte) []byte {
	return t.evalDepth(s, b, 0)
}

// maxMapDepth stops maps that refer to each other in a cycle.
const maxMapDepth = 8

func (t *template) evalDepth(s *session, b []byte, depth int) []byte {
	for _, p := range t.parts {
		switch {
		case p.m != nil:
			if depth < maxMapDepth {
				b = p.m.eval(s, b, depth+1)
			}
		case p.v != vNone:
			b = s.appendVar(b, p.v)
		default:
			b = append(b, p.lit...)
		}
	}
	return b
}

var hostname, _ = os.Hostname()

// appendVar appends one built-in variable's value, formatted as nginx
// formats it ("" when it has none).
func (s *session) appendVar(b []byte, v varID) []byte {
	switch v {
	case vBinaryRemoteAddr:
		a := s.remote.Addr().Unmap()
		return append(b, a.AsSlice()...)
	case vRemoteAddr:
		return s.remote.Addr().Unmap().AppendTo(b)
	case vRemotePort:
		return strconv.AppendUint(b, uint64(s.remote.Port()), 10)
	case vRealIPRemoteAddr:
		return s.peer.Addr().Unmap().AppendTo(b)
	case vRealIPRemotePort:
		return strconv.AppendUint(b, uint64(s.peer.Port()), 10)
	case vServerAddr:
		return s.local.Addr().Unmap().AppendTo(b)
	case vServerPort:
		return strconv.AppendUint(b, uint64(s.local.Port()), 10)
	case vProtocol:
		return append(b, s.proto...)
	case vPPAddr, vPPPort, vPPServerAddr, vPPServerPort:
		if s.pp == nil || s.pp.Local {
			return b
		}
		switch v {
		case vPPAddr:
			return s.pp.Src.Addr().Unmap().AppendTo(b)
		case vPPPort:
			return strconv.AppendUint(b, uint64(s.pp.Src.Port()), 10)
		case vPPServerAddr:
			return s.pp.Dst.Addr().Unmap().AppendTo(b)
		}
		return strconv.AppendUint(b, uint64(s.pp.Dst.Port()), 10)
	case vPrereadServerName:
		return append(b, s.hello.ServerName...)
	case vPrereadProtocol:
		return append(b, versionName(s.hello.Version)...)
	case vPrereadALPN:
		return append(b, strings.Join(s.hello.ALPN, ",")...)
	case vSSLServerName:
		return append(b, s.tlsServerName...)
	case vSSLProtocol:
		return append(b, s.tlsProtocol...)
	case vBytesReceived:
		return strconv.AppendInt(b, s.bytesReceived, 10)
	case vBytesSent:
		return strconv.AppendInt(b, s.bytesSent, 10)
	case vUpstreamBytesSent:
		return strconv.AppendInt(b, s.bytesReceived, 10)
	case vUpstreamBytesReceived:
		return strconv.AppendInt(b, s.bytesSent, 10)
	case vConnection:
		return strconv.AppendUint(b, s.id, 10)
	case vHostname:
		return append(b, hostname...)
	case vPID:
		return strconv.AppendInt(b, int64(os.Getpid()), 10)
	case vMsec:
		now := s.now()
		return fmt.Appendf(b, "%d.%03d", now.Unix(), now.Nanosecond()/1e6)
	case vSessionTime:
		return appendSeconds(b, s.now().Sub(s.start))
	case vStatus:
		return strconv.AppendInt(b, int64(s.status), 10)
	case vTimeISO8601:
		return s.now().AppendFormat(b, "2006-01-02T15:04:05-07:00")
	case vTimeLocal:
		return s.now().AppendFormat(b, "02/Jan/2006:15:04:05 -0700")
	case vUpstreamAddr:
		return append(b, strings.Join(s.upstreams, ", ")...)
	case vUpstreamConnectTime:
		return appendSecondsOrDash(b, s.upConnect)
	case vUpstreamFirstByteTime:
		return appendSecondsOrDash(b, s.upFirstByte)
	case vUpstreamSessionTime:
		return appendSecondsOrDash(b, s.upSession)
	}
	return b
}

// appendSeconds formats d as nginx's "%T.%03M": seconds with milliseconds.
func appendSeconds(b []byte, d time.Duration) []byte {
	ms := max(d.Milliseconds(), 0)
	return fmt.Appendf(b, "%d.%03d", ms/1000, ms%1000)
}

func appendSecondsOrDash(b []byte, d time.Duration) []byte {
	if d < 0 {
		return append(b, '-')
	}
	return appendSeconds(b, d)
}

// knownVars is checked against config.StreamVariables by a test, so the
// config package and this one agree on what exists.
var _ = config.StreamVariables
