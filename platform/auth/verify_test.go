package auth

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

type keyring struct {
	priv  ed25519.PrivateKey
	jwk   JWK
	calls int
}

func newKeyring(t *testing.T) *keyring {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &keyring{priv: priv, jwk: NewJWK(pub)}
}

func (k *keyring) source(context.Context) (JWKS, error) {
	k.calls++
	return JWKS{Keys: []JWK{k.jwk}}, nil
}

func (k *keyring) sign(t *testing.T, method jwt.SigningMethod, key any, claims jwt.MapClaims, kid string) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func validClaims(now time.Time) jwt.MapClaims {
	return jwt.MapClaims{"sub": "u1", "role": "customer", "iss": Issuer, "aud": Audience,
		"iat": now.Unix(), "exp": now.Add(15 * time.Minute).Unix()}
}

func with(c jwt.MapClaims, k string, v any) jwt.MapClaims {
	out := jwt.MapClaims{}
	for kk, vv := range c {
		out[kk] = vv
	}
	if v == nil {
		delete(out, k)
	} else {
		out[k] = v
	}
	return out
}

func TestVerify(t *testing.T) {
	k := newKeyring(t)
	other := newKeyring(t)
	now := time.Now()
	good := validClaims(now)
	tests := []struct {
		name  string
		token string
		ok    bool
	}{
		{"valid", k.sign(t, jwt.SigningMethodEdDSA, k.priv, good, k.jwk.KeyID), true},
		{"admin", k.sign(t, jwt.SigningMethodEdDSA, k.priv, with(good, "role", "admin"), k.jwk.KeyID), true},
		{"expired", k.sign(t, jwt.SigningMethodEdDSA, k.priv, with(good, "exp", now.Add(-time.Hour).Unix()), k.jwk.KeyID), false},
		{"no expiry", k.sign(t, jwt.SigningMethodEdDSA, k.priv, with(good, "exp", nil), k.jwk.KeyID), false},
		{"wrong audience", k.sign(t, jwt.SigningMethodEdDSA, k.priv, with(good, "aud", "other"), k.jwk.KeyID), false},
		{"wrong issuer", k.sign(t, jwt.SigningMethodEdDSA, k.priv, with(good, "iss", "evil"), k.jwk.KeyID), false},
		{"unknown role", k.sign(t, jwt.SigningMethodEdDSA, k.priv, with(good, "role", "root"), k.jwk.KeyID), false},
		{"no subject", k.sign(t, jwt.SigningMethodEdDSA, k.priv, with(good, "sub", nil), k.jwk.KeyID), false},
		{"other key, same kid", k.sign(t, jwt.SigningMethodEdDSA, other.priv, good, k.jwk.KeyID), false},
		{"no kid", k.sign(t, jwt.SigningMethodEdDSA, k.priv, good, ""), false},
		{"alg none", k.sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, good, k.jwk.KeyID), false},
		// Algorithm switching: an HMAC token keyed with the public key bytes.
		{"alg HS256 with public key", k.sign(t, jwt.SigningMethodHS256, []byte(k.jwk.X), good, k.jwk.KeyID), false},
		{"tampered", tamper(k.sign(t, jwt.SigningMethodEdDSA, k.priv, good, k.jwk.KeyID)), false},
		{"garbage", "not.a.token", false},
	}
	v := NewVerifier(k.source)
	for _, tt := range tests {
		c, err := v.Verify(context.Background(), tt.token)
		if (err == nil) != tt.ok {
			t.Errorf("Verify(%s) = %+v, %v; want ok=%v", tt.name, c, err, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("Verify(%s) error %v does not wrap ErrUnauthenticated", tt.name, err)
		}
		if tt.ok && c.Subject != "u1" {
			t.Errorf("Verify(%s) subject = %q; want u1", tt.name, c.Subject)
		}
	}
}

// tamper flips the role in the payload without re-signing.
func tamper(token string) string {
	parts := strings.Split(token, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	forged := strings.Replace(string(payload), `"customer"`, `"admin"`, 1)
	parts[1] = base64.RawURLEncoding.EncodeToString([]byte(forged))
	return strings.Join(parts, ".")
}

func TestVerifierRefreshesOnUnknownKidAtMostOncePerInterval(t *testing.T) {
	old := newKeyring(t)
	v := NewVerifier(old.source)
	now := time.Now()
	v.now = func() time.Time { return now }
	if _, err := v.Verify(context.Background(), old.sign(t, jwt.SigningMethodEdDSA, old.priv, validClaims(now), old.jwk.KeyID)); err != nil {
		t.Fatal(err)
	}
	// The key rotates: the source now serves a new key.
	rotated := newKeyring(t)
	v.source = rotated.source
	token := rotated.sign(t, jwt.SigningMethodEdDSA, rotated.priv, validClaims(now), rotated.jwk.KeyID)
	if _, err := v.Verify(context.Background(), token); err == nil {
		t.Error("Verify() accepted an unknown kid within the refresh interval")
	}
	if rotated.calls != 0 {
		t.Errorf("source called %d times within the refresh interval; want 0", rotated.calls)
	}
	now = now.Add(11 * time.Second)
	if _, err := v.Verify(context.Background(), token); err != nil {
		t.Errorf("Verify() after the interval = %v; want the rotated key fetched and accepted", err)
	}
	if rotated.calls != 1 {
		t.Errorf("source called %d times; want 1", rotated.calls)
	}
}

func TestAuthenticateAndRequireAdmin(t *testing.T) {
	k := newKeyring(t)
	v := NewVerifier(k.source)
	now := time.Now()
	customer := k.sign(t, jwt.SigningMethodEdDSA, k.priv, validClaims(now), k.jwk.KeyID)
	admin := k.sign(t, jwt.SigningMethodEdDSA, k.priv, with(validClaims(now), "role", "admin"), k.jwk.KeyID)
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, found := FromContext(r.Context()); !found {
			t.Error("handler ran without claims in the context")
		}
		w.WriteHeader(http.StatusNoContent)
	})
	tests := []struct {
		name   string
		h      http.Handler
		header string
		want   int
	}{
		{"no header", v.Authenticate(ok), "", 401},
		{"basic scheme", v.Authenticate(ok), "Basic dTpw", 401},
		{"bad token", v.Authenticate(ok), "Bearer x.y.z", 401},
		{"customer", v.Authenticate(ok), "Bearer " + customer, 204},
		{"customer on admin route", v.Authenticate(RequireAdmin(ok)), "Bearer " + customer, 403},
		{"admin on admin route", v.Authenticate(RequireAdmin(ok)), "bearer " + admin, 204},
	}
	for _, tt := range tests {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		if tt.header != "" {
			req.Header.Set("Authorization", tt.header)
		}
		rec := httptest.NewRecorder()
		tt.h.ServeHTTP(rec, req)
		if rec.Code != tt.want {
			t.Errorf("%s: status %d %s; want %d", tt.name, rec.Code, rec.Body, tt.want)
		}
		if tt.want >= 400 && rec.Header().Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s: Content-Type %q; want problem details", tt.name, rec.Header().Get("Content-Type"))
		}
	}
}
