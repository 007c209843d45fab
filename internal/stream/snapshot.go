package stream

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/netip"
	"sort"
	"strings"

	"bunsan/internal/config"
	"bunsan/internal/tlsconf"
	"bunsan/internal/upstream"
)

// Snapshot is one configuration of the stream proxy, compiled: groups
// built in the Store, templates and maps compiled, TLS loaded. It is
// read-only once built; a reload builds another and swaps it in, and
// sessions keep the snapshot they started with.
type Snapshot struct {
	binds   map[string]*binding
	groups  map[string]*upstream.Group
	hashKey map[string]*template // by group name
	listens []Listen
}

// Listen is an address the snapshot wants a socket for.
type Listen struct {
	Key     string // "tcp ADDR" or "udp ADDR": what Serve* are given
	Network string // "tcp" or "udp"
	Addr    string
	Socket  config.Socket // the listen directive's socket parameters
}

// Listens lists the sockets the snapshot serves, sorted by key.
func (s *Snapshot) Listens() []Listen { return s.listens }

// binding is one listen directive with its server.
type binding struct {
	srv *server
	ln  config.StreamListen
}

// server is one stream server block, compiled.
type server struct {
	cfg    config.StreamProxy
	group  *upstream.Group // proxy_pass GROUP
	addr   string          // proxy_pass HOST:PORT
	pass   *template       // proxy_pass $variable
	ret    *template       // return TEXT
	sets   map[string]*template
	limits []limitRef
	logs   []logRef
	tls    *tls.Config
	dialer net.Dialer
	// bindAddr is proxy_bind as an address for Dialer.DialTCP (zero: any).
	bindAddr netip.AddrPort
	// logsFirstByte: an access log uses $upstream_first_byte_time.
	logsFirstByte bool
	// tlsClients caches proxy_ssl client configurations by server name.
	tlsClients tlsClientCache
}

// ListenKey is the key of a listen directive, as Listen.Key.
func ListenKey(ln config.StreamListen) string { return ln.Network() + " " + ln.Addr }

// Build compiles st. It opens access log files (kept for the life of the
// Proxy) and builds groups in the Proxy's Store; it opens no sockets.
func (p *Proxy) Build(st *config.Stream) (*Snapshot, error) {
	snap := &Snapshot{binds: map[string]*binding{}, groups: map[string]*upstream.Group{}, hashKey: map[string]*template{}}
	if st == nil {
		return snap, nil
	}
	maps, err := compileMaps(st)
	if err != nil {
		return nil, err
	}
	for _, spec := range st.Upstreams {
		g, err := p.store.Build(*spec)
		if err != nil {
			return nil, err
		}
		snap.groups[spec.Name] = g
		if spec.HashKey != "" {
			if snap.hashKey[spec.Name], err = compile(spec.HashKey, maps); err != nil {
				return nil, fmt.Errorf("upstream %q: hash: %w", spec.Name, err)
			}
		}
	}
	for _, cs := range st.Servers {
		srv, err := p.buildServer(st, cs, snap, maps)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", cs.Pos.File, cs.Pos.Line, err)
		}
		for _, ln := range cs.Listens {
			key := ListenKey(ln)
			snap.binds[key] = &binding{srv: srv, ln: ln}
			snap.listens = append(snap.listens, Listen{Key: key, Network: ln.Network(), Addr: ln.Addr, Socket: ln.Socket})
		}
	}
	sort.Slice(snap.listens, func(i, j int) bool { return snap.listens[i].Key < snap.listens[j].Key })
	return snap, nil
}

func (p *Proxy) buildServer(st *config.Stream, cs *config.StreamServer, snap *Snapshot, maps map[string]*mapVar) (*server, error) {
	srv := &server{cfg: cs.Proxy}
	for _, sv := range cs.Proxy.Sets {
		t, err := compile(sv.Value, maps)
		if err != nil {
			return nil, fmt.Errorf("set $%s: %w", sv.Var, err)
		}
		if srv.sets == nil {
			srv.sets = map[string]*template{}
		}
		srv.sets[sv.Var] = t // a later set of the same name wins
	}
	if !cs.Proxy.SocketKeepalive {
		srv.dialer.KeepAlive = -1 // nginx's default; saves setsockopt calls per connection
	}
	pp := cs.Proxy.Pass
	switch {
	case cs.Proxy.Return != nil:
		t, err := compile(*cs.Proxy.Return, maps)
		if err != nil {
			return nil, fmt.Errorf("return: %w", err)
		}
		srv.ret = t
	case pp.Var:
		t, err := compile(pp.Raw, maps)
		if err != nil {
			return nil, fmt.Errorf("proxy_pass: %w", err)
		}
		srv.pass = t
	case pp.Group != "":
		srv.group = snap.groups[pp.Group]
	default:
		srv.addr = pp.Addr
	}
	if b := cs.Proxy.Bind; b != "" {
		host, port, err := net.SplitHostPort(b)
		if err != nil {
			host, port = b, "0"
		}
		a, err := net.ResolveTCPAddr("tcp", net.JoinHostPort(host, port))
		if err != nil {
			return nil, fmt.Errorf("proxy_bind: %w", err)
		}
		srv.dialer.LocalAddr = a
		srv.bindAddr = a.AddrPort()
	}
	for _, lc := range cs.Proxy.LimitConn {
		z := st.Zones[lc.Zone]
		key, err := compile(z.Key, maps)
		if err != nil {
			return nil, fmt.Errorf("limit_conn_zone %s: %w", z.Name, err)
		}
		srv.limits = append(srv.limits, limitRef{zone: p.zones.get(z.Name, z.Size), key: key, max: lc.Max})
	}
	if !cs.Proxy.AccessLogOff {
		for _, al := range cs.Proxy.AccessLogs {
			t, err := compile(st.LogFormats[al.Format], maps)
			if err != nil {
				return nil, fmt.Errorf("log_format %s: %w", al.Format, err)
			}
			f, err := p.logs.open(al.Path)
			if err != nil {
				return nil, fmt.Errorf("access_log: %w", err)
			}
			ref := logRef{file: f, tmpl: t}
			if al.If != "" {
				if ref.cond, err = compile(al.If, maps); err != nil {
					return nil, fmt.Errorf("access_log if=: %w", err)
				}
			}
			srv.logs = append(srv.logs, ref)
			srv.logsFirstByte = srv.logsFirstByte || strings.Contains(st.LogFormats[al.Format], "upstream_first_byte_time")
		}
	}
	for _, ln := range cs.Listens {
		if ln.SSL {
			cfg, warnings, err := tlsconf.ServerConfig(cs.Proxy.SSL.Certificates, cs.Proxy.SSL.Protocols, false)
			if err != nil {
				return nil, err
			}
			for _, w := range warnings {
				p.log.Warn(w)
			}
			srv.tls = cfg
			break
		}
	}
	return srv, nil
}

// Group returns the stream upstream group called name, or nil.
func (s *Snapshot) Group(name string) *upstream.Group { return s.groups[name] }

// Groups lists the snapshot's upstream groups, sorted by name, for the
// API, metrics and health checks.
func (s *Snapshot) Groups() []*upstream.Group {
	out := make([]*upstream.Group, 0, len(s.groups))
	for _, g := range s.groups {
		out = append(out, g)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out
}
