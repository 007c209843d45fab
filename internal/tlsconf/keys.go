package tlsconf

import (
	"crypto/tls"

	"bunsan/internal/tlsconf/pemkey"
)

// ReadPasswords reads an ssl_password_file (see pemkey.ReadPasswords).
func ReadPasswords(path string) ([]string, error) { return pemkey.ReadPasswords(path) }

// LoadPair reads a PEM certificate chain and its private key, decrypting
// the key with the first passphrase that works (see pemkey.LoadPair).
func LoadPair(certFile, keyFile string, passwords []string) (tls.Certificate, error) {
	return pemkey.LoadPair(certFile, keyFile, passwords)
}
