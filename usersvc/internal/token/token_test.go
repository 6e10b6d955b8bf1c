package token

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"reflect"
	"strings"
	"testing"
	"time"

	"shop/platform/auth"
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

func newSigner(t *testing.T) *Signer {
	t.Helper()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	s, err := ParsePrivateKey(pemOf(t, priv))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestIssueVerifiesWithThePlatformVerifier(t *testing.T) {
	s := newSigner(t)
	v := auth.NewVerifier(s.KeySource())
	for _, role := range []string{auth.RoleCustomer, auth.RoleAdmin} {
		tok, err := s.Issue("user-1", role, time.Now(), 15*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		c, err := v.Verify(context.Background(), tok)
		if err != nil || c.Subject != "user-1" || c.Role != role {
			t.Errorf("Verify(Issue(user-1, %s)) = %+v, %v; want the same subject and role", role, c, err)
		}
	}
}

func TestIssueClaimsAndHeader(t *testing.T) {
	s := newSigner(t)
	now := time.Unix(1_800_000_000, 0)
	tok, err := s.Issue("user-1", auth.RoleCustomer, now, 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("Issue() = %q; want a compact JWS", tok)
	}
	var header, claims map[string]any
	for i, dst := range []*map[string]any{&header, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, dst); err != nil {
			t.Fatal(err)
		}
	}
	if header["alg"] != "EdDSA" || header["kid"] != s.JWKS().Keys[0].KeyID || header["typ"] != "JWT" {
		t.Errorf("header = %v; want alg EdDSA, typ JWT and the JWK's kid", header)
	}
	want := map[string]any{
		"sub": "user-1", "role": "customer", "iss": auth.Issuer, "aud": []any{auth.Audience},
		"iat": float64(now.Unix()), "exp": float64(now.Add(15 * time.Minute).Unix()),
	}
	if !reflect.DeepEqual(claims, want) {
		t.Errorf("claims = %v; want %v", claims, want)
	}
}

func TestIssuedTokenExpires(t *testing.T) {
	s := newSigner(t)
	tok, err := s.Issue("user-1", auth.RoleCustomer, time.Now().Add(-time.Hour), 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := auth.NewVerifier(s.KeySource()).Verify(context.Background(), tok); err == nil {
		t.Error("Verify(token that expired 45 minutes ago) = nil; want a rejection")
	}
	// A verifier that trusts another key refuses a fresh token.
	fresh, _ := s.Issue("user-1", auth.RoleCustomer, time.Now(), 15*time.Minute)
	if _, err := auth.NewVerifier(newSigner(t).KeySource()).Verify(context.Background(), fresh); err == nil {
		t.Error("Verify() with another key = nil; want a rejection")
	}
}

func TestIssueRejectsBadInput(t *testing.T) {
	s := newSigner(t)
	if _, err := s.Issue("", auth.RoleCustomer, time.Now(), time.Minute); err == nil {
		t.Error("Issue(no subject) = nil error")
	}
	if _, err := s.Issue("u", auth.RoleCustomer, time.Now(), 0); err == nil {
		t.Error("Issue(ttl 0) = nil error")
	}
}

// During a rotation the JWKS holds both keys: tokens signed with the
// previous key verify until they expire, new ones are signed with the
// current key.
func TestRotationPublishesBothKeys(t *testing.T) {
	_, oldKey, _ := ed25519.GenerateKey(rand.Reader)
	_, newKey, _ := ed25519.GenerateKey(rand.Reader)
	before, err := ParsePrivateKey(pemOf(t, oldKey))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	oldToken, _ := before.Issue("u1", auth.RoleCustomer, now, time.Minute)

	current, err := ParsePrivateKey(pemOf(t, newKey))
	if err != nil {
		t.Fatal(err)
	}
	after, err := current.WithPrevious(pemOf(t, oldKey))
	if err != nil {
		t.Fatal(err)
	}
	if keys := after.JWKS().Keys; len(keys) != 2 || keys[0].KeyID != current.jwk.KeyID || keys[1].KeyID != before.jwk.KeyID {
		t.Fatalf("JWKS() = %+v; want the current key, then the previous", keys)
	}
	newToken, _ := after.Issue("u2", auth.RoleCustomer, now, time.Minute)
	v := auth.NewVerifier(after.KeySource())
	for name, tok := range map[string]string{"previous key": oldToken, "current key": newToken} {
		if _, err := v.Verify(context.Background(), tok); err != nil {
			t.Errorf("Verify(token of the %s) = %v", name, err)
		}
	}
	if _, err := current.WithPrevious([]byte("not a key")); err == nil {
		t.Error("WithPrevious(garbage) = nil error")
	}
	if same, _ := current.WithPrevious(pemOf(t, newKey)); len(same.JWKS().Keys) != 1 {
		t.Error("the current key as its own previous is listed twice")
	}
}
