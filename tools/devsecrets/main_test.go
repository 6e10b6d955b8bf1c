package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestUpdateGeneratesOnceAndKeeps(t *testing.T) {
	file := filepath.Join(t.TempDir(), "s", "secrets.json")
	env := map[string]string{}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	read := func() map[string]string {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	if created, err := update(file, lookup); err != nil || !created {
		t.Fatalf("first update = %v, %v; want created", created, err)
	}
	first := read()
	if !strings.HasPrefix(first["jwt-signing-key"], "-----BEGIN PRIVATE KEY-----") || len(first["admin-password"]) < 20 {
		t.Fatalf("generated secrets = %v; want a PEM key and a long password", first)
	}
	if fi, _ := os.Stat(file); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v; want 0600", fi.Mode().Perm())
	}
	env["REDIS_PASSWORD"] = "from-env"
	if created, err := update(file, lookup); err != nil || created {
		t.Fatalf("second update = %v, %v; want nothing generated", created, err)
	}
	second := read()
	if second["jwt-signing-key"] != first["jwt-signing-key"] || second["admin-password"] != first["admin-password"] {
		t.Error("the signing key or admin password changed between runs")
	}
	if second["redis-password"] != "from-env" || second["postgres-connection-string"] == "" {
		t.Errorf("connection settings = %v; want the environment's and the defaults", second)
	}
	other, _ := NewSigningKey()
	if other == first["jwt-signing-key"] {
		t.Error("two generated keys are equal")
	}
}
