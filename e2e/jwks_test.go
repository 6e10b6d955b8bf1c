package e2e

import (
	"context"
	"net/http"
	"testing"

	"shop/e2e/harness"
)

func TestJWKSServesTheSigningKey(t *testing.T) {
	resp, err := sys.Do(context.Background(), harness.Request{Method: http.MethodGet, Service: "usersvc", Path: "/.well-known/jwks.json"})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != http.StatusOK {
		t.Fatalf("GET /.well-known/jwks.json = %d %s; want 200", resp.Status, resp.Body)
	}
	var jwks struct {
		Keys []struct {
			Kty, Crv, X, Kid, Alg, Use string
			D                          string `json:"d"`
		} `json:"keys"`
	}
	if err := resp.JSON(&jwks); err != nil {
		t.Fatal(err)
	}
	if len(jwks.Keys) == 0 {
		t.Fatal("JWKS has no keys")
	}
	for _, k := range jwks.Keys {
		if k.Kty != "OKP" || k.Crv != "Ed25519" || k.Alg != "EdDSA" || k.Kid == "" || len(k.X) != 43 {
			t.Errorf("key %+v; want an Ed25519 public key with a kid", k)
		}
		if k.D != "" {
			t.Errorf("key %s publishes its private part", k.Kid)
		}
	}
}
