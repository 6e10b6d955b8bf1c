package main

import (
	"shop/platform/config"
	"shop/platform/service"
)

// settings is everything the service reads from its environment, once.
type settings struct {
	service.Settings
	stateStore  string // STATE_STORE: the users state store component
	pubsub      string // PUBSUB: the pub/sub component carrying events
	secretStore string // SECRET_STORE: the Dapr secret store component
	signingKey  string // SIGNING_KEY_SECRET: the secret holding the PEM signing key
}

func loadSettings(lookup func(string) (string, bool)) (settings, error) {
	src := config.New(lookup)
	s := settings{
		Settings:    service.LoadSettings(src, 8081),
		stateStore:  src.String("STATE_STORE", "users-state"),
		pubsub:      src.String("PUBSUB", "pubsub"),
		secretStore: src.String("SECRET_STORE", "secretstore"),
		signingKey:  src.String("SIGNING_KEY_SECRET", "jwt-signing-key"),
	}
	return s, src.Err()
}
