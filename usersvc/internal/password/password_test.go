package password

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// cheap keeps the unit tests fast; the production parameters are tested once.
var cheap = Params{Memory: 256, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

var phc = regexp.MustCompile(`^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)

func TestHashAndVerify(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(OWASP, 1)
	hash, err := h.Hash(ctx, "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if m := phc.FindStringSubmatch(hash); m == nil || m[1] != "19456" || m[2] != "2" || m[3] != "1" {
		t.Errorf("Hash() = %q; want a PHC argon2id string with m=19456,t=2,p=1", hash)
	}
	if strings.Contains(hash, "correct horse") {
		t.Error("the hash contains the password")
	}
	for _, tt := range []struct {
		password string
		want     bool
	}{{"correct horse", true}, {"correct hors", false}, {"Correct horse", false}, {"", false}} {
		if ok, err := h.Verify(ctx, tt.password, hash); ok != tt.want || err != nil {
			t.Errorf("Verify(%q) = %v, %v; want %v", tt.password, ok, err, tt.want)
		}
	}
}

func TestSaltsDiffer(t *testing.T) {
	h := NewHasher(cheap, 1)
	a, _ := h.Hash(context.Background(), "same password")
	b, _ := h.Hash(context.Background(), "same password")
	if a == b {
		t.Errorf("two hashes of one password are equal: %s", a)
	}
	_, saltA, _, _ := Decode(a)
	_, saltB, _, _ := Decode(b)
	if string(saltA) == string(saltB) {
		t.Error("two hashes share a salt")
	}
}

// The reference implementation's test vector (phc-winner-argon2 src/test.c):
// another implementation's hash verifies, so the format is interoperable.
func TestVerifyReferenceVector(t *testing.T) {
	const ref = "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4"
	h := NewHasher(OWASP, 1) // the hash's own parameters apply, not the hasher's
	if ok, err := h.Verify(context.Background(), "password", ref); !ok || err != nil {
		t.Errorf("Verify(reference) = %v, %v; want true", ok, err)
	}
	if ok, _ := h.Verify(context.Background(), "passwore", ref); ok {
		t.Error("Verify(wrong password, reference) = true")
	}
	p, salt, key, err := Decode(ref)
	if err != nil || p.Memory != 256 || p.Time != 2 || p.Threads != 1 || string(salt) != "somesalt" || len(key) != 32 {
		t.Errorf("Decode(reference) = %+v, %q, %d bytes, %v", p, salt, len(key), err)
	}
}

func TestDecodeRejects(t *testing.T) {
	tests := []string{
		"",
		"password",
		"$argon2i$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
		"$argon2id$v=16$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
		"$argon2id$v=19$m=256,t=0,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
		"$argon2id$v=19$m=256,t=2,p=0$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
		"$argon2id$v=19$m=99999999,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
		"$argon2id$v=19$m=256,t=2,p=1,x=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
		"$argon2id$v=19$m=256,t=2,p=1$c29tZQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
		"$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$!!",
		"$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4$",
	}
	for _, in := range tests {
		if _, _, _, err := Decode(in); !errors.Is(err, ErrMalformed) {
			t.Errorf("Decode(%q) = %v; want ErrMalformed", in, err)
		}
		if ok, err := NewHasher(cheap, 1).Verify(context.Background(), "password", in); ok || err == nil {
			t.Errorf("Verify(%q) = %v, %v; want false and an error", in, ok, err)
		}
	}
}

func TestHasherBoundsConcurrency(t *testing.T) {
	h := NewHasher(cheap, 2)
	entered, release := make(chan struct{}, 3), make(chan struct{})
	h.kdf = func(password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte {
		entered <- struct{}{}
		<-release
		return make([]byte, keyLen)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	defer close(release)
	for range 2 {
		wg.Go(func() { _, _ = h.Hash(context.Background(), "password") })
	}
	<-entered
	<-entered
	// Both slots are busy: a third hash waits, and gives up with its context.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	errc := make(chan error, 1)
	go func() { _, err := h.Hash(ctx, "password"); errc <- err }()
	select {
	case <-entered:
		t.Error("a third hash ran while two were running; want at most 2 at once")
	case err := <-errc:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Hash(all slots busy) = %v; want context.DeadlineExceeded", err)
		}
	}
}
