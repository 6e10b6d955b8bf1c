// Command usersvc serves accounts, login and access tokens behind its Dapr
// sidecar.
package main

import (
	"context"
	"fmt"

	"github.com/sirupsen/logrus"

	"shop/platform/httpx"
	"shop/platform/service"
	"shop/usersvc/internal/token"
	"shop/usersvc/internal/userhttp"
)

func main() { service.Main("usersvc", run) }

func run(ctx context.Context, log *logrus.Entry, lookup func(string) (string, bool)) error {
	cfg, err := loadSettings(lookup)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	client, health, err := cfg.Connect(ctx, log)
	if err != nil {
		return err
	}
	defer client.Close()

	secret, err := client.GetSecret(ctx, cfg.secretStore, cfg.signingKey, nil)
	if err != nil {
		return fmt.Errorf("read secret %s from %s: %w", cfg.signingKey, cfg.secretStore, err)
	}
	signer, err := token.ParsePrivateKey([]byte(secret[cfg.signingKey]))
	if err != nil {
		return fmt.Errorf("secret %s: %w", cfg.signingKey, err)
	}

	router := httpx.NewRouter()
	httpx.HandleHealth(router, health.Check)
	userhttp.New(signer).Register(router)
	return cfg.Serve(ctx, log, router)
}
