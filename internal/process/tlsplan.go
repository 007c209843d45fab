package process

import (
	"crypto/tls"
	"log/slog"

	"bunsan/internal/config"
	"bunsan/internal/tlsconf"
)

type plan struct {
	reusePort bool
	tls       *tls.Config
}

// listenPlan works out every address to listen on and its TLS settings.
func listenPlan(m *config.Model, log *slog.Logger) (map[string]plan, error) {
	want := map[string]plan{}
	if m.HTTP == nil {
		return want, nil
	}
	type tlsInput struct {
		pairs     []config.CertPair
		protocols []string
		h2        bool
		ssl       bool
	}
	inputs := map[string]*tlsInput{}
	for _, srv := range m.HTTP.Servers {
		for _, ln := range srv.Listens {
			in := inputs[ln.Addr]
			if in == nil {
				in = &tlsInput{}
				inputs[ln.Addr] = in
			}
			in.ssl = in.ssl || ln.SSL
			in.h2 = in.h2 || ln.HTTP2
			if ln.DefaultServer {
				in.pairs = append(append([]config.CertPair(nil), srv.SSL.Certificates...), in.pairs...)
			} else {
				in.pairs = append(in.pairs, srv.SSL.Certificates...)
			}
			if in.protocols == nil {
				in.protocols = srv.SSL.Protocols
			}
			p := want[ln.Addr]
			p.reusePort = p.reusePort || ln.ReusePort
			want[ln.Addr] = p
		}
	}
	for addr, in := range inputs {
		if !in.ssl {
			continue
		}
		cfg, warnings, err := tlsconf.ServerConfig(in.pairs, in.protocols, in.h2)
		if err != nil {
			return nil, err
		}
		for _, w := range warnings {
			log.Warn(w)
		}
		p := want[addr]
		p.tls = cfg
		want[addr] = p
	}
	return want, nil
}
