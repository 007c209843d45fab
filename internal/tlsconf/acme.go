package tlsconf

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/acme"

	"bunsan/internal/config"
)

// ACMEManager obtains and renews certificates from ACME issuers
// (acme_issuer / acme_certificate). It lives for the process, so that a
// reload keeps certificates, accounts and renewals going; state is kept on
// disk under each issuer's state_path, so a restart does not order again.
type ACMEManager struct {
	Log *slog.Logger // nil: the process's (SetLog)
	Now func() time.Time

	mu     sync.Mutex
	certs  map[string]*acmeCert
	tokens map[string]string           // http-01: token -> key authorization
	alpn   map[string]*tls.Certificate // tls-alpn-01: domain -> challenge certificate
}

// DefaultACME is the process's manager; the TLS plan uses it.
var DefaultACME = &ACMEManager{Now: time.Now}

// acmeCert is one certificate an issuer keeps for a set of names.
type acmeCert struct {
	iss   config.ACMEIssuer
	names []string
	slot  atomic.Pointer[tls.Certificate]
}

// Certificate returns the slot that holds the current certificate for
// names from iss (empty until the first one is obtained or read from
// disk) and makes sure it is being obtained and renewed.
func (m *ACMEManager) Certificate(iss config.ACMEIssuer, names []string) (*atomic.Pointer[tls.Certificate], error) {
	if len(names) == 0 {
		return nil, errors.New("no name to order a certificate for: give acme_certificate identifiers or the server exact server_name values")
	}
	key := iss.Name + "|" + iss.URI + "|" + strings.Join(names, ",")
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.certs == nil {
		m.certs = map[string]*acmeCert{}
	}
	if c := m.certs[key]; c != nil {
		return &c.slot, nil
	}
	c := &acmeCert{iss: iss, names: names}
	if cert, err := c.load(); err == nil {
		c.slot.Store(cert)
	}
	m.certs[key] = c
	go m.run(c)
	return &c.slot, nil
}

// run keeps c's certificate current: it orders when there is none or when
// renewal is due, and retries failures with a growing pause.
func (m *ACMEManager) run(c *acmeCert) {
	backoff := time.Minute
	for {
		cur := c.slot.Load()
		if cur != nil {
			wait := renewAt(cur.Leaf, randomFraction()).Sub(m.Now())
			if wait > 0 {
				time.Sleep(wait) // waiting for the renewal date, not for another goroutine
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		err := m.Obtain(ctx, c)
		cancel()
		if err == nil {
			backoff = time.Minute
			logTo(m.Log).Info("ACME certificate obtained", "issuer", c.iss.Name, "names", strings.Join(c.names, ","))
			continue
		}
		logTo(m.Log).Error("ACME order failed; retrying", "issuer", c.iss.Name, "names", strings.Join(c.names, ","), "in", backoff, "error", err)
		time.Sleep(backoff) // retry pause
		backoff = min(2*backoff, 6*time.Hour)
	}
}

// renewAt is when a certificate should be renewed: once two thirds of its
// lifetime have passed, moved earlier by up to a tenth of its lifetime
// (frac in [0,1)) so that many certificates do not all renew at once.
func renewAt(leaf *x509.Certificate, frac float64) time.Time {
	life := leaf.NotAfter.Sub(leaf.NotBefore)
	jitter := time.Duration(frac * float64(life) / 10)
	return leaf.NotBefore.Add(life*2/3 - jitter)
}

func randomFraction() float64 {
	n, err := rand.Int(rand.Reader, big.NewInt(1<<30))
	if err != nil {
		return 0.5
	}
	return float64(n.Int64()) / (1 << 30)
}

// Obtain orders a certificate for c now, saves it under state_path and
// puts it into c's slot.
func (m *ACMEManager) Obtain(ctx context.Context, c *acmeCert) error {
	cl, err := m.client(ctx, c.iss)
	if err != nil {
		return err
	}
	order, err := cl.AuthorizeOrder(ctx, acme.DomainIDs(c.names...))
	if err != nil {
		return fmt.Errorf("new order: %w", err)
	}
	for _, u := range order.AuthzURLs {
		if err := m.authorize(ctx, cl, u, c.iss.Challenge); err != nil {
			return err
		}
	}
	if _, err := cl.WaitOrder(ctx, order.URI); err != nil {
		return fmt.Errorf("order: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: c.names[0]}, DNSNames: c.names}, key)
	if err != nil {
		return err
	}
	der, _, err := cl.CreateOrderCert(ctx, order.FinalizeURL, csr, true)
	if err != nil {
		return fmt.Errorf("finalize: %w", err)
	}
	leaf, err := x509.ParseCertificate(der[0])
	if err != nil {
		return err
	}
	cert := &tls.Certificate{Certificate: der, PrivateKey: key, Leaf: leaf}
	if err := c.save(cert); err != nil {
		return err
	}
	c.slot.Store(cert)
	return nil
}

// authorize proves control of one identifier with the issuer's challenge.
func (m *ACMEManager) authorize(ctx context.Context, cl *acme.Client, url, want string) error {
	z, err := cl.GetAuthorization(ctx, url)
	if err != nil {
		return err
	}
	if z.Status == acme.StatusValid {
		return nil
	}
	var chal *acme.Challenge
	for _, ch := range z.Challenges {
		if ch.Type == want {
			chal = ch
		}
	}
	if chal == nil {
		return fmt.Errorf("%s: the issuer offers no %s challenge", z.Identifier.Value, want)
	}
	domain := z.Identifier.Value
	m.mu.Lock()
	switch want {
	case "http-01":
		ka, err := cl.HTTP01ChallengeResponse(chal.Token)
		if err != nil {
			m.mu.Unlock()
			return err
		}
		if m.tokens == nil {
			m.tokens = map[string]string{}
		}
		m.tokens[chal.Token] = ka
	default:
		cert, err := cl.TLSALPN01ChallengeCert(chal.Token, domain)
		if err != nil {
			m.mu.Unlock()
			return err
		}
		if m.alpn == nil {
			m.alpn = map[string]*tls.Certificate{}
		}
		m.alpn[domain] = &cert
	}
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		delete(m.tokens, chal.Token)
		delete(m.alpn, domain)
		m.mu.Unlock()
	}()
	if _, err := cl.Accept(ctx, chal); err != nil {
		return fmt.Errorf("%s: accept challenge: %w", domain, err)
	}
	if _, err := cl.WaitAuthorization(ctx, z.URI); err != nil {
		return fmt.Errorf("%s: authorization: %w", domain, err)
	}
	return nil
}

// client makes an ACME client with the issuer's account, registering it
// the first time.
func (m *ACMEManager) client(ctx context.Context, iss config.ACMEIssuer) (*acme.Client, error) {
	key, err := accountKey(iss.StatePath)
	if err != nil {
		return nil, err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: !iss.Verify}
	if iss.Trusted.Path != "" {
		cas, err := readCerts(iss.Trusted.Path)
		if err != nil {
			return nil, err
		}
		tr.TLSClientConfig.RootCAs = poolOf(cas)
	}
	cl := &acme.Client{Key: key, DirectoryURL: iss.URI, HTTPClient: &http.Client{Transport: tr, Timeout: time.Minute}, UserAgent: "bunsan"}
	_, err = cl.Register(ctx, &acme.Account{Contact: iss.Contacts}, func(string) bool { return iss.AcceptTOS })
	if err != nil && !errors.Is(err, acme.ErrAccountAlreadyExists) {
		if !iss.AcceptTOS {
			return nil, fmt.Errorf("account registration: %w (add accept_terms_of_service to acme_issuer %s)", err, iss.Name)
		}
		return nil, fmt.Errorf("account registration: %w", err)
	}
	return cl, nil
}

// accountKey reads the account key under dir, or makes and saves one.
func accountKey(dir string) (*ecdsa.PrivateKey, error) {
	file := filepath.Join(dir, "account.key")
	if b, err := os.ReadFile(file); err == nil {
		blk, _ := pem.Decode(b)
		if blk == nil {
			return nil, fmt.Errorf("%s: no PEM key", file)
		}
		return x509.ParseECPrivateKey(blk.Bytes)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	if err := writeAtomic(file, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})); err != nil {
		return nil, err
	}
	return key, nil
}

// files are where c's certificate chain and key are kept.
func (c *acmeCert) files() (string, string) {
	base := filepath.Join(c.iss.StatePath, strings.ReplaceAll(c.names[0], "/", "_"))
	return base + ".crt", base + ".key"
}

func (c *acmeCert) load() (*tls.Certificate, error) {
	cf, kf := c.files()
	cert, err := LoadPair(cf, kf, nil)
	if err != nil {
		return nil, err
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return nil, err
	}
	for _, n := range c.names {
		if leaf.VerifyHostname(n) != nil {
			return nil, fmt.Errorf("saved certificate does not cover %s", n)
		}
	}
	cert.Leaf = leaf
	return &cert, nil
}

func (c *acmeCert) save(cert *tls.Certificate) error {
	cf, kf := c.files()
	var chain []byte
	for _, der := range cert.Certificate {
		chain = append(chain, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		return err
	}
	// The key first: a crash between the two leaves an unusable pair,
	// which load rejects, rather than a new certificate with an old key.
	if err := writeAtomic(kf, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})); err != nil {
		return err
	}
	return writeAtomic(cf, chain)
}

// writeAtomic writes a private (0600) file by rename, creating its directory.
func writeAtomic(file string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return err
	}
	tmp := file + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, file)
}

// alpnCertificate returns the tls-alpn-01 challenge certificate for a
// validation handshake, or nil.
func (m *ACMEManager) alpnCertificate(hello *tls.ClientHelloInfo) *tls.Certificate {
	if len(hello.SupportedProtos) != 1 || hello.SupportedProtos[0] != acme.ALPNProto {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.alpn[strings.ToLower(hello.ServerName)]
}

// HTTPChallenges answers ACME HTTP-01 challenges
// (GET /.well-known/acme-challenge/TOKEN) for certificates this manager
// is ordering, and passes every other request to next. Mount it on the
// plain-HTTP listeners (port 80), in front of the virtual servers, as
// nginx's acme module answers them whatever the server blocks say.
func (m *ACMEManager) HTTPChallenges(next http.Handler) http.Handler {
	const prefix = "/.well-known/acme-challenge/"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil && strings.HasPrefix(r.URL.Path, prefix) && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			m.mu.Lock()
			ka, ok := m.tokens[r.URL.Path[len(prefix):]]
			m.mu.Unlock()
			if ok {
				w.Header().Set("Content-Type", "text/plain")
				w.Write([]byte(ka))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}
