package main

import (
	"time"

	"shop/platform/config"
	"shop/platform/contract"
	"shop/platform/service"
)

// settings is everything the service reads from its environment, once.
type settings struct {
	service.Settings
	stateStore  string // STATE_STORE: the users state store component
	usersTopic  string // USERS_TOPIC: the topic of user events
	secretStore string // SECRET_STORE: the Dapr secret store component
	signingKey  string // SIGNING_KEY_SECRET: the secret holding the PEM signing key
	// PREVIOUS_SIGNING_KEY_SECRET: the optional secret holding the key
	// before it, published in the JWKS during a rotation
	previousSigningKey string
	adminEmail         string        // ADMIN_EMAIL_SECRET: the secret holding the first admin's email
	adminPassword      string        // ADMIN_PASSWORD_SECRET: the secret holding the first admin's password
	tokenTTL           time.Duration // TOKEN_TTL: how long an access token lives (default 15m)
	hashesAtOnce       int           // PASSWORD_HASH_CONCURRENCY: argon2id hashes running at once (default 2)
}

func loadSettings(lookup func(string) (string, bool)) (settings, error) {
	src := config.New(lookup)
	s := settings{
		Settings:           service.LoadSettings(src, 8081),
		stateStore:         src.String("STATE_STORE", "users-state"),
		usersTopic:         src.String("USERS_TOPIC", contract.TopicUsers),
		secretStore:        src.String("SECRET_STORE", "secretstore"),
		signingKey:         src.String("SIGNING_KEY_SECRET", "jwt-signing-key"),
		previousSigningKey: src.String("PREVIOUS_SIGNING_KEY_SECRET", "jwt-previous-signing-key"),
		adminEmail:         src.String("ADMIN_EMAIL_SECRET", "admin-email"),
		adminPassword:      src.String("ADMIN_PASSWORD_SECRET", "admin-password"),
		tokenTTL:           src.Duration("TOKEN_TTL", 15*time.Minute),
		hashesAtOnce:       src.Int("PASSWORD_HASH_CONCURRENCY", 2, 1, 64),
	}
	return s, src.Err()
}
