// Package password hashes and verifies passwords with argon2id, stored in
// the PHC string format:
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>
//
// (salt and hash in unpadded standard base64). Every hash carries its own
// parameters, so they can be raised later without breaking stored hashes.
package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are the argon2id cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes over the memory
	Threads uint8
	SaltLen uint32 // bytes
	KeyLen  uint32 // bytes
}

// OWASP is the OWASP Password Storage Cheat Sheet's argon2id setting for
// modest hardware: 19 MiB, two passes, one thread (about 25 ms on one core
// of the development machine).
var OWASP = Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// Limits on the parameters a stored hash may carry: a corrupted or hostile
// record must not make one login allocate gigabytes.
const (
	maxMemory  = 1 << 20 // 1 GiB in KiB
	maxTime    = 64
	minSaltLen = 8
	minKeyLen  = 16
	maxKeyLen  = 128
)

// ErrMalformed is returned for a stored hash that is not an argon2id PHC
// string this package can verify.
var ErrMalformed = errors.New("malformed argon2id hash")

// Hasher hashes and verifies passwords. Argon2id is memory-hard on purpose,
// so the Hasher bounds how many hashes run at once: a burst of logins queues
// instead of allocating Memory KiB per request in parallel.
type Hasher struct {
	params Params
	slots  chan struct{}
	kdf    func(password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte
}

// NewHasher returns a Hasher with params that runs at most concurrency
// hashes at once (at least one).
func NewHasher(params Params, concurrency int) *Hasher {
	return &Hasher{params: params, slots: make(chan struct{}, max(concurrency, 1)), kdf: argon2.IDKey}
}

// Hash returns the PHC string of password with a fresh random salt.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	salt := make([]byte, h.params.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("salt: %w", err)
	}
	key, err := h.derive(ctx, password, salt, h.params)
	if err != nil {
		return "", err
	}
	return encode(h.params, salt, key), nil
}

// Verify reports whether password matches the PHC string encoded. The
// comparison takes the same time wherever the two keys differ.
func (h *Hasher) Verify(ctx context.Context, password, encoded string) (bool, error) {
	p, salt, want, err := Decode(encoded)
	if err != nil {
		return false, err
	}
	got, err := h.derive(ctx, password, salt, p)
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

func (h *Hasher) derive(ctx context.Context, password string, salt []byte, p Params) ([]byte, error) {
	select {
	case h.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-h.slots }()
	return h.kdf([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen), nil
}

var b64 = base64.RawStdEncoding

func encode(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// Decode parses an argon2id PHC string into its parameters, salt and key.
func Decode(encoded string) (Params, []byte, []byte, error) {
	var p Params
	parts := strings.Split(encoded, "$")
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, hash
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, ErrMalformed
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return p, nil, nil, fmt.Errorf("%w: version %q", ErrMalformed, parts[2])
	}
	var threads uint32
	if n, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &threads); err != nil || n != 3 ||
		fmt.Sprintf("m=%d,t=%d,p=%d", p.Memory, p.Time, threads) != parts[3] {
		return p, nil, nil, fmt.Errorf("%w: parameters %q", ErrMalformed, parts[3])
	}
	if p.Time < 1 || p.Time > maxTime || threads < 1 || threads > 255 || p.Memory < 8*threads || p.Memory > maxMemory {
		return p, nil, nil, fmt.Errorf("%w: parameters %q out of range", ErrMalformed, parts[3])
	}
	p.Threads = uint8(threads)
	salt, err := b64.Strict().DecodeString(parts[4])
	if err != nil || len(salt) < minSaltLen {
		return p, nil, nil, fmt.Errorf("%w: salt", ErrMalformed)
	}
	key, err := b64.Strict().DecodeString(parts[5])
	if err != nil || len(key) < minKeyLen || len(key) > maxKeyLen {
		return p, nil, nil, fmt.Errorf("%w: hash", ErrMalformed)
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	return p, salt, key, nil
}
