package pemkey

import (
	"encoding/pem"
	"testing"
)

// FuzzDecryptKeyPEM feeds arbitrary key files and encrypted PKCS#8 blobs
// to the decryption; it must fail cleanly, never panic.
func FuzzDecryptKeyPEM(f *testing.F) {
	f.Add([]byte("-----BEGIN ENCRYPTED PRIVATE KEY-----\nMAA=\n-----END ENCRYPTED PRIVATE KEY-----\n"))
	f.Add([]byte("-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00000000000000000000000000000000\n\nAAAAAAAAAAAAAAAAAAAAAA==\n-----END RSA PRIVATE KEY-----\n"))
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		decryptKeyPEM(b, []string{"pw"})
		decryptKeyPEM(pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: b}), []string{"pw"})
	})
}
