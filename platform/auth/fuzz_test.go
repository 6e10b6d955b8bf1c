package auth

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// FuzzVerify: no mutation of a token verifies as anything but what was
// signed; nothing panics.
func FuzzVerify(f *testing.F) {
	k := newKeyring(f)
	now := time.Now()
	good := k.sign(f, jwt.SigningMethodEdDSA, k.priv, validClaims(now), k.jwk.KeyID)
	f.Add(good)
	f.Add(tamper(good))
	f.Add(k.sign(f, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, validClaims(now), k.jwk.KeyID))
	f.Add(k.sign(f, jwt.SigningMethodHS256, []byte(k.jwk.X), validClaims(now), k.jwk.KeyID))
	f.Add("a.b.c")
	f.Add(strings.Repeat(".", 10))
	v := NewVerifier(k.source)
	f.Fuzz(func(t *testing.T, token string) {
		c, err := v.Verify(context.Background(), token)
		if err == nil && (c.Subject != "u1" || c.Role != RoleCustomer) {
			t.Errorf("Verify(%q) = %+v; only the signed claims may verify", token, c)
		}
	})
}
