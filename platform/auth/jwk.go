// Package auth holds what every service needs to trust the access tokens
// usersvc issues: the JSON Web Key format of its public keys.
package auth

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
)

// JWK is a public Ed25519 signing key (RFC 8037) as JWKS lists it.
type JWK struct {
	KeyType string `json:"kty"`
	Curve   string `json:"crv"`
	X       string `json:"x"`
	KeyID   string `json:"kid"`
	Alg     string `json:"alg"`
	Use     string `json:"use"`
}

// JWKS is the document served at /.well-known/jwks.json.
type JWKS struct {
	Keys []JWK `json:"keys"`
}

// NewJWK describes pub; its key id is the RFC 7638 thumbprint, so the same
// key always gets the same id on every replica.
func NewJWK(pub ed25519.PublicKey) JWK {
	x := base64.RawURLEncoding.EncodeToString(pub)
	// RFC 7638: the required members, in lexicographic order, no spaces.
	canonical, _ := json.Marshal(struct {
		Crv string `json:"crv"`
		Kty string `json:"kty"`
		X   string `json:"x"`
	}{"Ed25519", "OKP", x})
	sum := sha256.Sum256(canonical)
	return JWK{KeyType: "OKP", Curve: "Ed25519", X: x, KeyID: base64.RawURLEncoding.EncodeToString(sum[:]), Alg: "EdDSA", Use: "sig"}
}

// PublicKey returns the Ed25519 key that k describes.
func (k JWK) PublicKey() (ed25519.PublicKey, error) {
	if k.KeyType != "OKP" || k.Curve != "Ed25519" {
		return nil, fmt.Errorf("key %s: unsupported key type %s/%s", k.KeyID, k.KeyType, k.Curve)
	}
	b, err := base64.RawURLEncoding.DecodeString(k.X)
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, errors.New("key " + k.KeyID + ": malformed x")
	}
	return ed25519.PublicKey(b), nil
}
