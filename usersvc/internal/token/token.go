// Package token issues the access tokens of the shop and publishes the
// public half of its signing key. The private key comes from the Dapr secret
// store, never from code.
package token

import (
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"shop/platform/auth"
)

// Signer holds the signing key, and the public half of the key before it
// while a rotation is under way.
type Signer struct {
	key      ed25519.PrivateKey
	jwk      auth.JWK
	previous []auth.JWK
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

// WithPrevious returns a signer that signs with s's key and also publishes
// the public half of the previous signing key (PKCS #8 PEM), so that the
// tokens it signed verify until they expire. Rotating a key: make the old
// key the previous one and a new key the current one, and drop the
// previous one once the longest token lifetime has passed.
func (s *Signer) WithPrevious(pemText []byte) (*Signer, error) {
	prev, err := ParsePrivateKey(pemText)
	if err != nil {
		return nil, fmt.Errorf("previous %w", err)
	}
	out := *s
	if prev.jwk.KeyID != s.jwk.KeyID {
		out.previous = append(append([]auth.JWK(nil), s.previous...), prev.jwk)
	}
	return &out, nil
}

// JWKS returns the public keys that verify this signer's tokens: the
// current key first, then the previous one during a rotation.
func (s *Signer) JWKS() auth.JWKS {
	return auth.JWKS{Keys: append([]auth.JWK{s.jwk}, s.previous...)}
}

// accessClaims are the claims of an access token; platform/auth.Verifier
// reads them back.
type accessClaims struct {
	jwt.RegisteredClaims
	Role string `json:"role"`
}

// Issue signs an access token (EdDSA, with the key id in the header) for the
// user userID with role, issued at now and valid for ttl.
func (s *Signer) Issue(userID, role string, now time.Time, ttl time.Duration) (string, error) {
	if userID == "" || ttl <= 0 {
		return "", errors.New("issue token: want a subject and a positive lifetime")
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, accessClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    auth.Issuer,
			Subject:   userID,
			Audience:  jwt.ClaimStrings{auth.Audience},
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
		},
		Role: role,
	})
	tok.Header["kid"] = s.jwk.KeyID
	signed, err := tok.SignedString(s.key)
	if err != nil {
		return "", fmt.Errorf("issue token: %w", err)
	}
	return signed, nil
}

// KeySource serves the signer's own public keys to a platform/auth.Verifier,
// so that usersvc verifies the tokens it issued without calling itself.
func (s *Signer) KeySource() auth.KeySource {
	return func(context.Context) (auth.JWKS, error) { return s.JWKS(), nil }
}
