package config

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"bunsan/internal/conf"
	"bunsan/internal/tlsconf/openssl"
)

// sslFlag makes a handler for an on/off ssl_* directive.
func sslFlag(bit sslSet, field func(*SSL) *bool) func(l *loader, s *scope, d *conf.Directive) error {
	return func(l *loader, s *scope, d *conf.Directive) error {
		v, err := parseFlag(d.Args[0])
		if err != nil {
			return argError(d, 0, "%v", err)
		}
		ssl := l.sslAt(s)
		*field(ssl) = v
		ssl.set |= bit
		return nil
	}
}

// sslFileSetter makes a handler for a directive naming one file, checked
// at load so that a typo is a load error with its place.
func sslFileSetter(bit sslSet, what string, field func(*SSL) *File) func(l *loader, s *scope, d *conf.Directive) error {
	return func(l *loader, s *scope, d *conf.Directive) error {
		f, err := l.namedFile(d, what)
		ssl := l.sslAt(s)
		*field(ssl) = f
		ssl.set |= bit
		return err
	}
}

// namedFile resolves a directive's file argument and checks it exists.
func (l *loader) namedFile(d *conf.Directive, what string) (File, error) {
	p := d.Args[0]
	if strings.Contains(p, "$") {
		return File{}, argError(d, 0, "%q: a %s cannot come from a variable; name a file", p, what)
	}
	abs := l.confPath(p)
	f := File{Path: abs, Pos: toPos(d.Pos)}
	if err := fileExists(abs); err != nil {
		return f, argError(d, 0, "cannot load %s %q: %v; check the path (relative paths resolve from %s)",
			what, abs, plainErr(err), l.m.ConfDir)
	}
	return f, nil
}

func handleSSLProtocols(l *loader, s *scope, d *conf.Directive) error {
	for i, p := range d.Args {
		if !openssl.ValidProtocol(p) {
			return argError(d, i, "invalid protocol %q: use TLSv1.2 and/or TLSv1.3", p)
		}
	}
	if _, _, ok := openssl.Protocols(d.Args); !ok {
		return argError(d, 0, "no usable protocol in %q: bunsan supports TLSv1.2 and TLSv1.3 only (older versions are broken); add TLSv1.2", strings.Join(d.Args, " "))
	}
	ssl := l.sslAt(s)
	ssl.Protocols = append([]string(nil), d.Args...)
	ssl.set |= setSSLProtocols
	return nil
}

func handleSSLCiphers(l *loader, s *scope, d *conf.Directive) error {
	c, err := openssl.ParseCiphers(d.Args[0])
	if err != nil {
		return argError(d, 0, "%v", err)
	}
	if len(c.Suites) == 0 {
		msg := fmt.Sprintf("ssl_ciphers %q selects no TLS 1.2 cipher suite that Go implements", d.Args[0])
		if len(c.Skipped) > 0 {
			msg += fmt.Sprintf(" (%s not supported)", strings.Join(c.Skipped, ", "))
		}
		return argError(d, 0, "%s; add ECDHE suites such as ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256", msg)
	}
	if len(c.Skipped) > 0 {
		l.m.Warnings = append(l.m.Warnings, Diag{Pos: toPos(d.ArgPos[0]),
			Msg: fmt.Sprintf("ssl_ciphers: %s not supported by Go's TLS and left out", strings.Join(c.Skipped, ", "))})
	}
	ssl := l.sslAt(s)
	ssl.Ciphers, ssl.CipherString = c.Suites, d.Args[0]
	ssl.set |= setSSLCiphers
	return nil
}

func handleSSLCurve(l *loader, s *scope, d *conf.Directive) error {
	curves, err := openssl.ParseCurves(d.Args[0])
	if err != nil {
		return argError(d, 0, "%v", err)
	}
	ssl := l.sslAt(s)
	ssl.Curves = nil
	for _, c := range curves {
		ssl.Curves = append(ssl.Curves, uint16(c))
	}
	ssl.set |= setSSLCurves
	return nil
}

// handleSSLSessionCache checks nginx's forms: off, none, builtin[:size],
// shared:name:size. Go resumes by tickets only, so the value is recorded.
func handleSSLSessionCache(l *loader, s *scope, d *conf.Directive) error {
	for i, a := range d.Args {
		switch {
		case a == "off" || a == "none":
			if len(d.Args) > 1 {
				return argError(d, i, "%q cannot be combined with other ssl_session_cache values", a)
			}
		case a == "builtin":
		case strings.HasPrefix(a, "builtin:"):
			if _, err := strconv.Atoi(a[len("builtin:"):]); err != nil {
				return argError(d, i, "invalid session cache %q: write builtin:SESSIONS", a)
			}
		case strings.HasPrefix(a, "shared:"):
			parts := strings.Split(a, ":")
			if len(parts) != 3 || parts[1] == "" {
				return argError(d, i, "invalid session cache %q: write shared:NAME:SIZE, e.g. shared:SSL:10m", a)
			}
			if _, err := parseSize(parts[2]); err != nil {
				return argError(d, i, "invalid session cache size in %q: %v", a, err)
			}
		default:
			return argError(d, i, "invalid session cache %q: use off, none, builtin[:N] or shared:NAME:SIZE", a)
		}
	}
	ssl := l.sslAt(s)
	ssl.SessionCache = strings.Join(d.Args, " ")
	ssl.set |= setSSLSessionCache
	return nil
}

func handleSSLSessionTimeout(l *loader, s *scope, d *conf.Directive) error {
	v, err := parseDuration(d.Args[0])
	if err != nil {
		return argError(d, 0, "%v", err)
	}
	ssl := l.sslAt(s)
	ssl.SessionTimeout = v
	ssl.set |= setSSLSessionTimeout
	return nil
}

func handleSSLVerifyClient(l *loader, s *scope, d *conf.Directive) error {
	switch d.Args[0] {
	case "on", "off", "optional", "optional_no_ca":
	default:
		return argError(d, 0, "invalid value %q: use on, off, optional or optional_no_ca", d.Args[0])
	}
	ssl := l.sslAt(s)
	ssl.VerifyClient = d.Args[0]
	ssl.set |= setSSLVerifyClient
	return nil
}

func handleSSLVerifyDepth(l *loader, s *scope, d *conf.Directive) error {
	n, err := strconv.Atoi(d.Args[0])
	if err != nil || n < 0 || n > 100 {
		return argError(d, 0, "invalid verify depth %q: write a whole number, e.g. 2", d.Args[0])
	}
	ssl := l.sslAt(s)
	ssl.VerifyDepth = n
	ssl.set |= setSSLVerifyDepth
	return nil
}

// handleSSLEarlyData accepts "off"; 0-RTT data is replayable and Go's
// server does not accept it, so "on" is refused rather than ignored.
func handleSSLEarlyData(l *loader, s *scope, d *conf.Directive) error {
	v, err := parseFlag(d.Args[0])
	if err != nil {
		return argError(d, 0, "%v", err)
	}
	if v {
		return argError(d, 0, "TLS 1.3 early data (0-RTT) is not supported: Go's TLS server does not accept it; write ssl_early_data off or remove the line")
	}
	return nil
}

// handleSSLObsolete explains the "ssl on;" form nginx 1.25.1 removed.
func handleSSLObsolete(l *loader, s *scope, d *conf.Directive) error {
	return fmt.Errorf("the \"ssl\" directive is obsolete (nginx removed it in 1.25.1): write \"listen 443 ssl;\" instead")
}

func handleSSLStaplingResponder(l *loader, s *scope, d *conf.Directive) error {
	u := d.Args[0]
	if !strings.HasPrefix(u, "http://") {
		return argError(d, 0, "invalid OCSP responder %q: it must be an http:// URL, as in nginx", u)
	}
	ssl := l.sslAt(s)
	ssl.StaplingResponder = u
	ssl.set |= setSSLStaplingResponder
	return nil
}

// handleSSLTicketKey records a ticket key file; nginx's are 48 or 80
// random bytes.
func handleSSLTicketKey(l *loader, s *scope, d *conf.Directive) error {
	f, err := l.namedFile(d, "session ticket key")
	if err != nil {
		return err
	}
	if st, err := os.Stat(f.Path); err == nil && st.Size() != 48 && st.Size() != 80 {
		return argError(d, 0, "session ticket key %q must be 48 or 80 bytes (openssl rand 80 > FILE), not %d", f.Path, st.Size())
	}
	ssl := l.sslAt(s)
	ssl.TicketKeys = append(ssl.TicketKeys, f)
	ssl.set |= setSSLTicketKeys
	return nil
}
