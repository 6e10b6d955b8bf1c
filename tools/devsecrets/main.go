// Command devsecrets creates or updates the secrets file of the developer's
// run (.dev/secrets.json, read by components/common/secretstore.yaml).
//
// A value the file holds is kept, so the signing key and the admin password
// stay the same from run to run; a missing one is generated: a new Ed25519
// token signing key (PKCS #8 PEM) and a random admin password. The durable
// profiles' connection strings come from the environment when it sets them
// (REDIS_PASSWORD, POSTGRES_CONNECTION_STRING, RABBITMQ_CONNECTION_STRING,
// KAFKA_BROKERS), else from the file, else the local defaults. The file is
// written with mode 0600 and must never be committed.
package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// fromEnv are the secrets an environment variable overrides, with their
// defaults: the servers of the durable profiles on this machine.
var fromEnv = []struct{ secret, env, def string }{
	{"kafka-brokers", "KAFKA_BROKERS", "127.0.0.1:9092"},
	{"redis-password", "REDIS_PASSWORD", ""},
	{"postgres-connection-string", "POSTGRES_CONNECTION_STRING", "host=127.0.0.1 port=5432 user=postgres dbname=postgres sslmode=disable"},
	{"rabbitmq-connection-string", "RABBITMQ_CONNECTION_STRING", "amqp://guest:guest@127.0.0.1:5672"},
}

func main() {
	file := flag.String("file", ".dev/secrets.json", "the secrets file to create or update")
	flag.Parse()
	created, err := update(*file, os.LookupEnv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "devsecrets:", err)
		os.Exit(1)
	}
	if created {
		fmt.Printf("created %s: a new token signing key and admin password (the admin signs in as admin-email with admin-password)\n", *file)
	}
}

// update brings the file up to date; it reports whether it generated keys.
func update(file string, lookup func(string) (string, bool)) (bool, error) {
	secrets := map[string]string{}
	b, err := os.ReadFile(file)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return false, err
	default:
		if err := json.Unmarshal(b, &secrets); err != nil {
			return false, fmt.Errorf("%s: %w", file, err)
		}
	}
	created := false
	if secrets["jwt-signing-key"] == "" {
		key, err := NewSigningKey()
		if err != nil {
			return false, err
		}
		secrets["jwt-signing-key"], created = key, true
	}
	if _, ok := secrets["jwt-previous-signing-key"]; !ok {
		// Set it to the old key while tokens it signed are still in use.
		secrets["jwt-previous-signing-key"] = ""
	}
	if secrets["admin-email"] == "" {
		secrets["admin-email"] = "admin@shop.local"
	}
	if secrets["admin-password"] == "" {
		p := make([]byte, 18)
		if _, err := rand.Read(p); err != nil {
			return false, err
		}
		secrets["admin-password"], created = base64.RawURLEncoding.EncodeToString(p), true
	}
	for _, s := range fromEnv {
		if v, ok := lookup(s.env); ok {
			secrets[s.secret] = v
		} else if _, ok := secrets[s.secret]; !ok {
			secrets[s.secret] = s.def
		}
	}
	out, err := json.MarshalIndent(secrets, "", "  ")
	if err != nil {
		return false, err
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return false, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), ".secrets-*")
	if err != nil {
		return false, err
	}
	defer os.Remove(tmp.Name())
	_, werr := tmp.Write(append(out, '\n'))
	if cerr := tmp.Close(); werr != nil || cerr != nil {
		return false, errors.Join(werr, cerr)
	}
	return created, os.Rename(tmp.Name(), file)
}

// NewSigningKey returns a new Ed25519 private key as PKCS #8 PEM.
func NewSigningKey() (string, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), nil
}
