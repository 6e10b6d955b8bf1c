// Package token issues the access tokens of the shop and publishes the
// public half of its signing key. The private key comes from the Dapr secret
// store, never from code.
package token

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"

	"shop/platform/auth"
)

// Signer holds the signing key.
type Signer struct {
	key ed25519.PrivateKey
	jwk auth.JWK
}

// ParsePrivateKey reads a PKCS #8 PEM-encoded Ed25519 private key.
func ParsePrivateKey(pemText []byte) (*Signer, error) {
	block, _ := pem.Decode(pemText)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, errors.New("signing key: want a PEM block of type PRIVATE KEY (PKCS #8)")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("signing key: want Ed25519, got %T", k)
	}
	return &Signer{key: priv, jwk: auth.NewJWK(priv.Public().(ed25519.PublicKey))}, nil
}

// JWKS returns the public keys that verify this signer's tokens.
func (s *Signer) JWKS() auth.JWKS {
	return auth.JWKS{Keys: []auth.JWK{s.jwk}}
}
