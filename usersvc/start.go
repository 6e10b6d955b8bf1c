package main

import (
	"context"
	"errors"
	"fmt"

	dapr "github.com/dapr/go-sdk/client"
	"github.com/sirupsen/logrus"

	"shop/platform/auth"
	"shop/platform/service"
	"shop/usersvc/internal/password"
	"shop/usersvc/internal/token"
	"shop/usersvc/internal/user"
	"shop/usersvc/internal/userevents"
	"shop/usersvc/internal/userhttp"
	"shop/usersvc/internal/userstore"
)

// start builds the user service on its sidecar's client.
func start(ctx context.Context, env service.Env, cfg settings) (service.Routes, error) {
	keyPEM, err := secret(ctx, env.Client, cfg.secretStore, cfg.signingKey)
	if err != nil {
		return nil, err
	}
	signer, err := token.ParsePrivateKey([]byte(keyPEM))
	if err != nil {
		return nil, fmt.Errorf("secret %s: %w", cfg.signingKey, err)
	}
	if signer, err = withPreviousKey(ctx, env.Log, env.Client, cfg, signer); err != nil {
		return nil, err
	}

	svc, err := user.NewService(ctx,
		userstore.New(env.Client, cfg.stateStore),
		password.NewHasher(password.OWASP, cfg.hashesAtOnce),
		userevents.New(env.Client, cfg.PubSub, cfg.usersTopic))
	if err != nil {
		return nil, err
	}
	if err := bootstrapAdmin(ctx, env.Log, env.Client, cfg, svc); err != nil {
		return nil, err
	}
	return userhttp.New(userhttp.Deps{
		Service:  svc,
		Tokens:   signer,
		TokenTTL: cfg.tokenTTL,
		Verifier: auth.NewVerifier(signer.KeySource()).Instrument(env.Telemetry.Registry),
	}), nil
}

// bootstrapAdmin creates the first admin account from the secret store,
// once: restarts and replicas starting together leave an existing one alone.
func bootstrapAdmin(ctx context.Context, log *logrus.Entry, client dapr.Client, cfg settings, svc *user.Service) error {
	email, err := secret(ctx, client, cfg.secretStore, cfg.adminEmail)
	if err != nil {
		return err
	}
	pass, err := secret(ctx, client, cfg.secretStore, cfg.adminPassword)
	if err != nil {
		return err
	}
	outcome, err := svc.EnsureAdmin(ctx, email, pass)
	if errors.Is(err, user.ErrNotPublished) {
		log.WithError(err).Error("admin account created without its event")
		err = nil
	}
	if err != nil {
		return fmt.Errorf("secrets %s, %s: %w", cfg.adminEmail, cfg.adminPassword, err)
	}
	entry := log.WithField("outcome", outcome.String())
	if outcome == user.AdminEmailTaken {
		entry.Warn("admin account not created: a customer account holds the admin email; it was not promoted")
		return nil
	}
	entry.Info("admin account checked")
	return nil
}

// withPreviousKey adds the previous signing key to signer's JWKS when the
// optional secret PREVIOUS_SIGNING_KEY_SECRET holds one (during a key
// rotation). A secret that is absent, unreadable or empty means no
// rotation; one that holds something other than a key is an error.
func withPreviousKey(ctx context.Context, log *logrus.Entry, client dapr.Client, cfg settings, signer *token.Signer) (*token.Signer, error) {
	values, err := client.GetSecret(ctx, cfg.secretStore, cfg.previousSigningKey, nil)
	if err != nil {
		log.WithError(err).WithField("secret", cfg.previousSigningKey).Info("no previous signing key")
		return signer, nil
	}
	prev := values[cfg.previousSigningKey]
	if prev == "" {
		return signer, nil
	}
	out, err := signer.WithPrevious([]byte(prev))
	if err != nil {
		return nil, fmt.Errorf("secret %s: %w", cfg.previousSigningKey, err)
	}
	log.Info("previous signing key published: tokens it signed verify until they expire")
	return out, nil
}

// secret reads one secret (a single value) from the secret store.
func secret(ctx context.Context, client dapr.Client, store, name string) (string, error) {
	values, err := client.GetSecret(ctx, store, name, nil)
	if err != nil {
		return "", fmt.Errorf("read secret %s from %s: %w", name, store, err)
	}
	v, ok := values[name]
	if !ok || v == "" {
		return "", fmt.Errorf("secret %s in %s is empty", name, store)
	}
	return v, nil
}
