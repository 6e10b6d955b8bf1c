package token

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"testing"
)

func pemOf(t *testing.T, key any) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func TestParsePrivateKey(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	s, err := ParsePrivateKey(pemOf(t, priv))
	if err != nil {
		t.Fatalf("ParsePrivateKey() = %v", err)
	}
	keys := s.JWKS().Keys
	if len(keys) != 1 {
		t.Fatalf("JWKS() has %d keys; want 1", len(keys))
	}
	got, err := keys[0].PublicKey()
	if err != nil || !got.Equal(pub) {
		t.Errorf("JWKS() key = %x, %v; want the public half %x", got, err, pub)
	}
}

func TestParsePrivateKeyRejects(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tests := map[string][]byte{
		"empty":     nil,
		"not pem":   []byte("secret"),
		"wrong key": pemOf(t, ec),
		"garbage":   pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1, 2, 3}}),
	}
	for name, in := range tests {
		if _, err := ParsePrivateKey(in); err == nil {
			t.Errorf("ParsePrivateKey(%s) = nil error; want a rejection", name)
		}
	}
}
