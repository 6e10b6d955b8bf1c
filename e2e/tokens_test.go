package e2e

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"shop/platform/auth"
)

var (
	devKeyOnce sync.Once
	devKey     ed25519.PrivateKey
	devKeyErr  error
)

// signingKey reads the development signing key that usersvc signs with
// (components/dev-secrets.DEVELOPMENT-ONLY.json, jwt-signing-key).
func signingKey(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	devKeyOnce.Do(func() {
		var secrets struct {
			Key string `json:"jwt-signing-key"`
		}
		b, err := os.ReadFile(filepath.Join("..", "components", "dev-secrets.DEVELOPMENT-ONLY.json"))
		if err == nil {
			err = json.Unmarshal(b, &secrets)
		}
		if err != nil {
			devKeyErr = err
			return
		}
		block, _ := pem.Decode([]byte(secrets.Key))
		if block == nil {
			devKeyErr = os.ErrInvalid
			return
		}
		key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			devKeyErr = err
			return
		}
		var ok bool
		if devKey, ok = key.(ed25519.PrivateKey); !ok {
			devKeyErr = os.ErrInvalid
		}
	})
	if devKeyErr != nil {
		t.Fatalf("development signing key: %v", devKeyErr)
	}
	return devKey
}

// mintToken returns an access token for user sub with role, signed with the
// development key as usersvc signs them, so that tests need no login.
func mintToken(t *testing.T, sub, role string) string {
	t.Helper()
	key := signingKey(t)
	kid := auth.NewJWK(key.Public().(ed25519.PublicKey)).KeyID
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	now := time.Now()
	signing := enc(map[string]string{"alg": "EdDSA", "typ": "JWT", "kid": kid}) + "." + enc(map[string]any{
		"sub": sub, "role": role, "iss": auth.Issuer, "aud": auth.Audience,
		"iat": now.Unix(), "exp": now.Add(15 * time.Minute).Unix(),
	})
	return signing + "." + base64.RawURLEncoding.EncodeToString(ed25519.Sign(key, []byte(signing)))
}
