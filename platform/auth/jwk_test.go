package auth

import (
	"crypto/ed25519"
	"testing"
)

func TestJWKRoundTrip(t *testing.T) {
	pub, _, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	k := NewJWK(pub)
	if k.KeyID == "" || k.Alg != "EdDSA" || k.KeyType != "OKP" {
		t.Errorf("NewJWK() = %+v; want an EdDSA OKP key with a kid", k)
	}
	if again := NewJWK(pub); again.KeyID != k.KeyID {
		t.Errorf("kid changed between calls: %s, %s", k.KeyID, again.KeyID)
	}
	got, err := k.PublicKey()
	if err != nil || !got.Equal(pub) {
		t.Errorf("PublicKey() = %x, %v; want %x", got, err, pub)
	}
	other, _, _ := ed25519.GenerateKey(nil)
	if NewJWK(other).KeyID == k.KeyID {
		t.Error("two keys share a kid")
	}
}

// RFC 8037 appendix A.3 gives this key's thumbprint.
func TestJWKThumbprintRFC8037(t *testing.T) {
	k := JWK{KeyType: "OKP", Curve: "Ed25519", X: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
	pub, err := k.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := NewJWK(pub).KeyID, "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"; got != want {
		t.Errorf("thumbprint = %s; want %s", got, want)
	}
}

func TestJWKRejectsOtherKeys(t *testing.T) {
	for _, k := range []JWK{{KeyType: "RSA"}, {KeyType: "OKP", Curve: "X25519", X: "AA"}, {KeyType: "OKP", Curve: "Ed25519", X: "!!"}} {
		if _, err := k.PublicKey(); err == nil {
			t.Errorf("PublicKey(%+v) = nil error; want a rejection", k)
		}
	}
}
