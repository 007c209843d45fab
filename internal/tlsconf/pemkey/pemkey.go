// Package pemkey reads PEM certificates and private keys, decrypting keys
// with ssl_password_file passphrases. It is a leaf package so that the
// config loader (bunsan -t) and tlsconf load certificates the same way.
package pemkey

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"hash"
	"os"
	"strings"
)

// ErrEncrypted is returned for an encrypted key when no passphrase is given.
var ErrEncrypted = errors.New("the private key is encrypted: name its passphrase with ssl_password_file")

// ReadPasswords reads an ssl_password_file: one passphrase per line, tried
// in order on each encrypted key, as nginx does.
func ReadPasswords(path string) ([]string, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSuffix(line, "\r")
		if line != "" {
			out = append(out, line)
		}
	}
	return out, nil
}

// LoadPair reads a PEM certificate chain and its private key. An encrypted
// key (OpenSSL's legacy "Proc-Type: 4,ENCRYPTED" form or PKCS#8
// "ENCRYPTED PRIVATE KEY" with PBES2) is decrypted with the first password
// that works.
func LoadPair(certFile, keyFile string, passwords []string) (tls.Certificate, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return tls.Certificate{}, err
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return tls.Certificate{}, err
	}
	keyPEM, err = decryptKeyPEM(keyPEM, passwords)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.X509KeyPair(certPEM, keyPEM)
}

// decryptKeyPEM returns keyPEM with its private key block decrypted, or
// unchanged when it is not encrypted.
func decryptKeyPEM(keyPEM []byte, passwords []string) ([]byte, error) {
	rest := keyPEM
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return keyPEM, nil
		}
		//lint:ignore SA1019 legacy encrypted PEM is what "openssl rsa -aes256 -traditional" writes
		legacy := x509.IsEncryptedPEMBlock(b) //nolint:staticcheck
		if !legacy && b.Type != "ENCRYPTED PRIVATE KEY" {
			continue
		}
		if len(passwords) == 0 {
			return nil, ErrEncrypted
		}
		for _, pw := range passwords {
			der, err := decryptBlock(b, legacy, []byte(pw))
			if err != nil {
				continue
			}
			typ := "PRIVATE KEY"
			if legacy {
				typ = b.Type
			}
			return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), nil
		}
		return nil, errors.New("cannot decrypt the private key with any passphrase of the password file")
	}
}

func decryptBlock(b *pem.Block, legacy bool, pw []byte) ([]byte, error) {
	if legacy {
		der, err := x509.DecryptPEMBlock(b, pw) //nolint:staticcheck // see decryptKeyPEM
		if err != nil {
			return nil, err
		}
		// DecryptPEMBlock's padding check lets a wrong password through
		// about once in 256 tries; parsing catches that.
		if _, err := x509.ParsePKCS1PrivateKey(der); err != nil {
			if _, err2 := x509.ParseECPrivateKey(der); err2 != nil {
				if _, err3 := x509.ParsePKCS8PrivateKey(der); err3 != nil {
					return nil, err
				}
			}
		}
		return der, nil
	}
	der, err := decryptPKCS8(b.Bytes, pw)
	if err != nil {
		return nil, err
	}
	if _, err := x509.ParsePKCS8PrivateKey(der); err != nil {
		return nil, err
	}
	return der, nil
}

// ASN.1 shapes of PKCS#8 EncryptedPrivateKeyInfo with PBES2 (RFC 8018),
// the form OpenSSL 3 writes by default.
type encryptedKeyInfo struct {
	Algo algorithmIdentifier
	Data []byte
}

type algorithmIdentifier struct {
	Algorithm  asn1.ObjectIdentifier
	Parameters asn1.RawValue `asn1:"optional"`
}

type pbes2Params struct {
	KDF    algorithmIdentifier
	Scheme algorithmIdentifier
}

type pbkdf2Params struct {
	Salt       []byte
	Iterations int
	KeyLength  int                 `asn1:"optional"`
	PRF        algorithmIdentifier `asn1:"optional"`
}

var (
	oidPBES2    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidHMACSHA1 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 7}
	prfs        = map[string]func() hash.Hash{
		"1.2.840.113549.2.7":  sha1.New,
		"1.2.840.113549.2.9":  sha256.New,
		"1.2.840.113549.2.10": sha512.New384,
		"1.2.840.113549.2.11": sha512.New,
	}
	aesKeyLen = map[string]int{
		"2.16.840.1.101.3.4.1.2":  16,
		"2.16.840.1.101.3.4.1.22": 24,
		"2.16.840.1.101.3.4.1.42": 32,
	}
)

func decryptPKCS8(der, pw []byte) ([]byte, error) {
	var info encryptedKeyInfo
	if _, err := asn1.Unmarshal(der, &info); err != nil {
		return nil, err
	}
	if !info.Algo.Algorithm.Equal(oidPBES2) {
		return nil, fmt.Errorf("encrypted key uses %v; only PBES2 (OpenSSL's default) is supported", info.Algo.Algorithm)
	}
	var p pbes2Params
	if _, err := asn1.Unmarshal(info.Algo.Parameters.FullBytes, &p); err != nil {
		return nil, err
	}
	if !p.KDF.Algorithm.Equal(oidPBKDF2) {
		return nil, fmt.Errorf("encrypted key derives its key with %v; only PBKDF2 is supported", p.KDF.Algorithm)
	}
	var kp pbkdf2Params
	if _, err := asn1.Unmarshal(p.KDF.Parameters.FullBytes, &kp); err != nil {
		return nil, err
	}
	if kp.Iterations < 1 || kp.Iterations > 1<<22 {
		// OpenSSL writes 2048; a huge count is a broken or hostile file
		// that would stall the load.
		return nil, fmt.Errorf("encrypted key has an unreasonable PBKDF2 iteration count %d", kp.Iterations)
	}
	prfOID := oidHMACSHA1
	if len(kp.PRF.Algorithm) > 0 {
		prfOID = kp.PRF.Algorithm
	}
	prf, ok := prfs[prfOID.String()]
	keyLen, ok2 := aesKeyLen[p.Scheme.Algorithm.String()]
	if !ok || !ok2 {
		return nil, fmt.Errorf("encrypted key uses an unsupported cipher (%v, %v); re-encrypt it with AES-CBC", prfOID, p.Scheme.Algorithm)
	}
	var iv []byte
	if _, err := asn1.Unmarshal(p.Scheme.Parameters.FullBytes, &iv); err != nil || len(iv) != aes.BlockSize {
		return nil, errors.New("encrypted key has a bad IV")
	}
	key, err := pbkdf2.Key(prf, string(pw), kp.Salt, kp.Iterations, keyLen)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	if len(info.Data) == 0 || len(info.Data)%aes.BlockSize != 0 {
		return nil, errors.New("encrypted key has a bad length")
	}
	out := make([]byte, len(info.Data))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(out, info.Data)
	pad := int(out[len(out)-1])
	if pad == 0 || pad > aes.BlockSize {
		return nil, errors.New("wrong passphrase")
	}
	for _, c := range out[len(out)-pad:] {
		if int(c) != pad {
			return nil, errors.New("wrong passphrase")
		}
	}
	return out[:len(out)-pad], nil
}
