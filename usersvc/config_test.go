package main

import (
	"strings"
	"testing"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

func TestLoadSettings(t *testing.T) {
	s, err := loadSettings(env(nil))
	if err != nil || s.Port != 8081 || s.stateStore != "users-state" || s.secretStore != "secretstore" || s.signingKey != "jwt-signing-key" {
		t.Errorf("loadSettings(empty) = %+v, %v; want the documented defaults", s, err)
	}
	s, err = loadSettings(env(map[string]string{"SECRET_STORE": "vault", "SIGNING_KEY_SECRET": "k"}))
	if err != nil || s.secretStore != "vault" || s.signingKey != "k" {
		t.Errorf("loadSettings() = %+v, %v; want the values from the environment", s, err)
	}
	if _, err := loadSettings(env(map[string]string{"APP_PORT": "x"})); err == nil || !strings.Contains(err.Error(), "APP_PORT") {
		t.Errorf("loadSettings(bad) error = %v; want one naming APP_PORT", err)
	}
}
