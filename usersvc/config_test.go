package main

import (
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

func TestLoadSettings(t *testing.T) {
	s, err := loadSettings(env(nil))
	if err != nil || s.Port != 8081 || s.stateStore != "users-state" || s.PubSub != "pubsub" || s.secretStore != "secretstore" ||
		s.signingKey != "jwt-signing-key" || s.adminEmail != "admin-email" || s.adminPassword != "admin-password" ||
		s.tokenTTL != 15*time.Minute || s.hashesAtOnce != 2 {
		t.Errorf("loadSettings(empty) = %+v, %v; want the documented defaults", s, err)
	}
	s, err = loadSettings(env(map[string]string{"SECRET_STORE": "vault", "SIGNING_KEY_SECRET": "k", "TOKEN_TTL": "1h", "ADMIN_EMAIL_SECRET": "e", "ADMIN_PASSWORD_SECRET": "p", "PASSWORD_HASH_CONCURRENCY": "4"}))
	if err != nil || s.secretStore != "vault" || s.signingKey != "k" || s.tokenTTL != time.Hour || s.adminEmail != "e" || s.adminPassword != "p" || s.hashesAtOnce != 4 {
		t.Errorf("loadSettings() = %+v, %v; want the values from the environment", s, err)
	}
	for name, value := range map[string]string{"APP_PORT": "x", "TOKEN_TTL": "forever", "PASSWORD_HASH_CONCURRENCY": "0"} {
		if _, err := loadSettings(env(map[string]string{name: value})); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("loadSettings(%s=%s) error = %v; want one naming %s", name, value, err, name)
		}
	}
	if _, err := loadSettings(env(map[string]string{"TOKEN_TTL": "-5m"})); err == nil {
		t.Error("loadSettings(TOKEN_TTL=-5m) = nil error; want a refusal")
	}
}
