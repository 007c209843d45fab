package httpproxy

import (
	"crypto/tls"
	"os"
	"strconv"
)

var pidText = strconv.Itoa(os.Getpid())

// tlsVariable returns the evaluator of an $ssl_* or $https variable, read
// from the request's TLS connection state; empty on plain connections.
func tlsVariable(name string) getter {
	f, ok := tlsVars[name]
	if !ok {
		return nil
	}
	return func(c *reqCtx, dst []byte) []byte {
		if c.r.TLS == nil {
			return dst
		}
		return f(c.r.TLS, dst)
	}
}

var tlsVars = map[string]func(cs *tls.ConnectionState, dst []byte) []byte{
	"https": func(cs *tls.ConnectionState, dst []byte) []byte { return append(dst, "on"...) },
	"ssl_protocol": func(cs *tls.ConnectionState, dst []byte) []byte {
		return append(dst, tlsVersionName(cs.Version)...)
	},
	"ssl_cipher": func(cs *tls.ConnectionState, dst []byte) []byte {
		return append(dst, opensslCipher(cs.CipherSuite)...)
	},
	"ssl_server_name": func(cs *tls.ConnectionState, dst []byte) []byte { return append(dst, cs.ServerName...) },
	"ssl_session_reused": func(cs *tls.ConnectionState, dst []byte) []byte {
		if cs.DidResume {
			return append(dst, 'r')
		}
		return append(dst, '.')
	},
	"ssl_alpn_protocol": func(cs *tls.ConnectionState, dst []byte) []byte { return append(dst, cs.NegotiatedProtocol...) },
	"ssl_client_s_dn": func(cs *tls.ConnectionState, dst []byte) []byte {
		if len(cs.PeerCertificates) == 0 {
			return dst
		}
		return append(dst, cs.PeerCertificates[0].Subject.String()...) // RFC 2253, as nginx since 1.11.6
	},
	"ssl_client_i_dn": func(cs *tls.ConnectionState, dst []byte) []byte {
		if len(cs.PeerCertificates) == 0 {
			return dst
		}
		return append(dst, cs.PeerCertificates[0].Issuer.String()...)
	},
	"ssl_client_serial": func(cs *tls.ConnectionState, dst []byte) []byte {
		if len(cs.PeerCertificates) == 0 {
			return dst
		}
		return append(dst, cs.PeerCertificates[0].SerialNumber.Text(16)...)
	},
	"ssl_client_verify": func(cs *tls.ConnectionState, dst []byte) []byte {
		switch {
		case len(cs.PeerCertificates) == 0:
			return append(dst, "NONE"...)
		case len(cs.VerifiedChains) > 0:
			return append(dst, "SUCCESS"...)
		}
		return append(dst, "FAILED:unable to verify the first certificate"...)
	},
}

func tlsVersionName(v uint16) string {
	switch v {
	case tls.VersionTLS13:
		return "TLSv1.3"
	case tls.VersionTLS12:
		return "TLSv1.2"
	case tls.VersionTLS11:
		return "TLSv1.1"
	case tls.VersionTLS10:
		return "TLSv1"
	}
	return ""
}

// opensslCipher names a suite as OpenSSL (and so nginx's $ssl_cipher)
// does; log parsers written for nginx expect these names.
func opensslCipher(id uint16) string {
	if n, ok := opensslNames[id]; ok {
		return n
	}
	return tls.CipherSuiteName(id)
}

var opensslNames = map[uint16]string{
	tls.TLS_AES_128_GCM_SHA256:                        "TLS_AES_128_GCM_SHA256",
	tls.TLS_AES_256_GCM_SHA384:                        "TLS_AES_256_GCM_SHA384",
	tls.TLS_CHACHA20_POLY1305_SHA256:                  "TLS_CHACHA20_POLY1305_SHA256",
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256:       "ECDHE-ECDSA-AES128-GCM-SHA256",
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384:       "ECDHE-ECDSA-AES256-GCM-SHA384",
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256:         "ECDHE-RSA-AES128-GCM-SHA256",
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384:         "ECDHE-RSA-AES256-GCM-SHA384",
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: "ECDHE-ECDSA-CHACHA20-POLY1305",
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256:   "ECDHE-RSA-CHACHA20-POLY1305",
}
