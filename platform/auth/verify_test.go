package auth

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

type keyring struct {
	priv  ed25519.PrivateKey
	jwk   JWK
	calls int
}

func newKeyring(t testing.TB) *keyring {
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

func (k *keyring) sign(t testing.TB, method jwt.SigningMethod, key any, claims jwt.MapClaims, kid string) string {
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

// source is a KeySource whose answer a test controls.
type source struct {
	mu    sync.Mutex
	keys  []JWK
	err   error
	calls int
	block chan struct{} // when set, a fetch waits for it to close
	// blocked, when set, is sent to as a fetch starts waiting on block.
	blocked chan struct{}
}

func (s *source) fetch(ctx context.Context) (JWKS, error) {
	s.mu.Lock()
	s.calls++
	block, blocked, keys, err := s.block, s.blocked, s.keys, s.err
	s.mu.Unlock()
	if block != nil {
		if blocked != nil {
			blocked <- struct{}{}
		}
		select {
		case <-block:
		case <-ctx.Done():
			return JWKS{}, ctx.Err()
		}
	}
	return JWKS{Keys: keys}, err
}

func (s *source) set(f func(s *source)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

func (s *source) callCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

func TestVerifierThrottlesAfterAFailedFetch(t *testing.T) {
	k := newKeyring(t)
	src := &source{err: errors.New("usersvc unreachable")}
	v := NewVerifier(src.fetch)
	now := time.Now()
	v.now = func() time.Time { return now }
	token := k.sign(t, jwt.SigningMethodEdDSA, k.priv, validClaims(now), k.jwk.KeyID)
	for i := 0; i < 5; i++ {
		if _, err := v.Verify(context.Background(), token); err == nil {
			t.Fatal("Verify() succeeded with no keys")
		}
	}
	if n := src.callCount(); n != 1 {
		t.Errorf("source called %d times within the refresh interval after a failure; want 1", n)
	}
	src.set(func(s *source) { s.err, s.keys = nil, []JWK{k.jwk} })
	now = now.Add(DefaultMinRefresh + time.Second)
	if _, err := v.Verify(context.Background(), token); err != nil {
		t.Errorf("Verify() after the interval = %v; want the keys fetched again", err)
	}
}

func TestVerifierHoldsNoLockDuringAFetch(t *testing.T) {
	cached, other := newKeyring(t), newKeyring(t)
	src := &source{keys: []JWK{cached.jwk}}
	v := NewVerifier(src.fetch)
	now := time.Now()
	if _, err := v.Verify(context.Background(), cached.sign(t, jwt.SigningMethodEdDSA, cached.priv, validClaims(now), cached.jwk.KeyID)); err != nil {
		t.Fatal(err)
	}
	// A token with an unknown kid starts a fetch that hangs.
	release, fetching := make(chan struct{}), make(chan struct{}, 1)
	src.set(func(s *source) { s.block, s.blocked, s.keys = release, fetching, []JWK{cached.jwk, other.jwk} })
	v.attempted = time.Time{} // let it fetch at once
	slow := make(chan error, 1)
	go func() {
		_, err := v.Verify(context.Background(), other.sign(t, jwt.SigningMethodEdDSA, other.priv, validClaims(now), other.jwk.KeyID))
		slow <- err
	}()
	select {
	case <-fetching:
	case <-time.After(5 * time.Second):
		t.Fatal("the fetch for the unknown key never started")
	}
	// Meanwhile a token of a cached key verifies without waiting.
	fast := make(chan error, 1)
	go func() {
		_, err := v.Verify(context.Background(), cached.sign(t, jwt.SigningMethodEdDSA, cached.priv, validClaims(now), cached.jwk.KeyID))
		fast <- err
	}()
	select {
	case err := <-fast:
		if err != nil {
			t.Errorf("Verify(cached key) during a fetch = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Verify(cached key) waited for the fetch in flight")
	}
	close(release)
	if err := <-slow; err != nil {
		t.Errorf("Verify(new key) after the fetch = %v", err)
	}
	if n := src.callCount(); n != 2 {
		t.Errorf("source called %d times; want 2", n)
	}
}

func TestVerifierCachedKeysExpire(t *testing.T) {
	old, current := newKeyring(t), newKeyring(t)
	src := &source{keys: []JWK{old.jwk}}
	v := NewVerifier(src.fetch)
	now := time.Now()
	v.now = func() time.Time { return now }
	verify := func(k *keyring) error {
		_, err := v.Verify(context.Background(), k.sign(t, jwt.SigningMethodEdDSA, k.priv, validClaims(now), k.jwk.KeyID))
		return err
	}
	if err := verify(old); err != nil {
		t.Fatal(err)
	}
	// usersvc stops publishing the old key: within MaxAge it still verifies
	// from the cache, after it no longer does.
	src.set(func(s *source) { s.keys = []JWK{current.jwk} })
	now = now.Add(DefaultMaxAge / 2)
	if err := verify(old); err != nil {
		t.Errorf("Verify(old key) within MaxAge = %v; want it cached", err)
	}
	now = now.Add(DefaultMaxAge)
	if err := verify(old); err == nil {
		t.Error("Verify(old key) after MaxAge succeeded; want the withdrawn key refused")
	}
	if err := verify(current); err != nil {
		t.Errorf("Verify(current key) = %v", err)
	}
	// usersvc down: the cached keys serve until MaxStale, then nothing does.
	src.set(func(s *source) { s.err = errors.New("down") })
	now = now.Add(DefaultMaxAge + time.Second)
	if err := verify(current); err != nil {
		t.Errorf("Verify() with usersvc down, keys stale = %v; want the cached key used", err)
	}
	now = now.Add(DefaultMaxStale)
	if err := verify(current); err == nil {
		t.Error("Verify() with keys older than MaxStale succeeded; want a refusal")
	}
}

func TestVerifierAcceptsBothKeysDuringARotation(t *testing.T) {
	previous, current := newKeyring(t), newKeyring(t)
	src := &source{keys: []JWK{current.jwk, previous.jwk}}
	v := NewVerifier(src.fetch)
	now := time.Now()
	for _, k := range []*keyring{previous, current} {
		if _, err := v.Verify(context.Background(), k.sign(t, jwt.SigningMethodEdDSA, k.priv, validClaims(now), k.jwk.KeyID)); err != nil {
			t.Errorf("Verify(%s) during a rotation = %v; want both keys accepted", k.jwk.KeyID, err)
		}
	}
	if n := src.callCount(); n != 1 {
		t.Errorf("source called %d times; want 1 (both keys come in one JWKS)", n)
	}
}
