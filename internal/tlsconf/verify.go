package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"

	"bunsan/internal/config"
)

// readCerts reads every certificate of a PEM file.
func readCerts(path string) ([]*x509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read CA certificates: %v", err)
	}
	var out []*x509.Certificate
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("bad certificate in %q: %v", path, err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no PEM certificate in %q", path)
	}
	return out, nil
}

func poolOf(certs []*x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range certs {
		p.AddCert(c)
	}
	return p
}

// setClientAuth asks for client certificates when a server on the address
// verifies them. Go verifies the chain against the union of the servers'
// CAs (so that tls.ConnectionState.VerifiedChains is filled for the HTTP
// side's $ssl_client_verify), and VerifyConnection then holds each
// connection to the CAs and depth of the server its SNI chose.
//
// A client that sends no certificate is let through even with
// "ssl_verify_client on": nginx answers such requests with 400 "No
// required SSL certificate was sent" at HTTP level, which the HTTP side
// does (see ClientCertMissing). A certificate that fails verification
// ends the handshake, where nginx would answer 400 "The SSL certificate
// error"; failing early leaks nothing and is simpler for clients to see.
// optional_no_ca asks for a certificate and verifies nothing.
func setClientAuth(cfg *tls.Config, sites []site, pick func(string) *site) {
	union := x509.NewCertPool()
	verify, noCA := false, false
	for _, s := range sites {
		switch s.verify {
		case "on", "optional":
			verify = true
			for _, c := range s.cas {
				union.AddCert(c)
			}
		case "optional_no_ca":
			noCA = true
		}
	}
	switch {
	case noCA:
		// Go cannot verify for some servers and not others on one
		// address; verification moves entirely into VerifyConnection.
		cfg.ClientAuth = tls.RequestClientCert
	case verify:
		cfg.ClientAuth = tls.VerifyClientCertIfGiven
		cfg.ClientCAs = union
	default:
		return
	}
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		s := pick(cs.ServerName)
		if len(cs.PeerCertificates) == 0 || (s.verify != "on" && s.verify != "optional") {
			return nil
		}
		if err := verifyClient(cs.PeerCertificates, s.pool, s.depth); err != nil {
			return err
		}
		if s.revoked.has(cs.PeerCertificates[0]) {
			return errors.New("client certificate not accepted: it is revoked (ssl_crl)")
		}
		return nil
	}
}

// verifyClient checks a client chain against one server's CAs and
// ssl_verify_depth, which counts as OpenSSL does: the most intermediate
// CAs between the client's certificate and the trust anchor (depth 1
// allows leaf, one intermediate, anchor).
func verifyClient(chain []*x509.Certificate, roots *x509.CertPool, depth int) error {
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	chains, err := chain[0].Verify(x509.VerifyOptions{
		Roots:         roots,
		Intermediates: inter,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		return fmt.Errorf("client certificate not accepted: %w", err)
	}
	for _, c := range chains {
		if len(c) <= depth+2 {
			return nil
		}
	}
	return errors.New("client certificate not accepted: its chain is longer than ssl_verify_depth")
}

// ClientCertMissing reports whether a request must get nginx's 400 "No
// required SSL certificate was sent": the server's ssl_verify_client is
// "on" (ssl is config.HTTP.ServerSSL of the server that took the request)
// and the client sent no certificate. A certificate that failed
// verification never gets this far: it ends the handshake.
func ClientCertMissing(ssl config.SSL, cs *tls.ConnectionState) bool {
	return cs != nil && ssl.VerifyClient == "on" && len(cs.PeerCertificates) == 0
}

// revocations are the certificates ssl_crl revokes, by issuer and serial.
type revocations struct {
	serials map[string]bool // issuer DER subject + "|" + serial
}

// readCRLs reads the CRLs of a PEM (or single DER) file, checking each
// against the CAs that could have signed it, as nginx does.
func readCRLs(path string, cas []*x509.Certificate) (*revocations, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var ders [][]byte
	for rest := b; ; {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		if blk.Type == "X509 CRL" {
			ders = append(ders, blk.Bytes)
		}
	}
	if len(ders) == 0 {
		ders = [][]byte{b} // DER
	}
	r := &revocations{serials: map[string]bool{}}
	for _, der := range ders {
		crl, err := x509.ParseRevocationList(der)
		if err != nil {
			return nil, err
		}
		signed := false
		for _, ca := range cas {
			if crl.CheckSignatureFrom(ca) == nil {
				signed = true
				break
			}
		}
		if !signed {
			return nil, fmt.Errorf("a CRL in %q is not signed by any CA of ssl_client_certificate or ssl_trusted_certificate", path)
		}
		for _, e := range crl.RevokedCertificateEntries {
			r.serials[string(crl.RawIssuer)+"|"+e.SerialNumber.String()] = true
		}
	}
	return r, nil
}

// has reports whether leaf is revoked.
func (r *revocations) has(leaf *x509.Certificate) bool {
	return r != nil && r.serials[string(leaf.RawIssuer)+"|"+leaf.SerialNumber.String()]
}
