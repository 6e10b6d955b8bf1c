package main

import (
	"context"

	"shop/inventorysvc/internal/inventory"
	"shop/inventorysvc/internal/inventoryevents"
	"shop/inventorysvc/internal/inventoryhttp"
	"shop/inventorysvc/internal/inventorystore"
	"shop/platform/auth"
	"shop/platform/events"
	"shop/platform/service"
)

// start builds the inventory service on its sidecar's client.
func start(ctx context.Context, env service.Env, cfg settings) (service.Routes, error) {
	store := inventorystore.New(env.Client, cfg.stateStore)
	svc := inventory.NewService(store, inventoryevents.New(env.Client, cfg.PubSub, cfg.inventoryTopic))
	if cfg.seedDemo {
		seeded, err := inventory.SeedDemo(ctx, svc)
		if err != nil {
			return nil, err
		}
		env.Log.WithField("seeded", seeded).Info("demo catalog checked")
	}
	return inventoryhttp.New(inventoryhttp.Deps{
		Service:     svc,
		Verifier:    auth.NewVerifier(auth.InvokeKeySource(env.Client, cfg.usersAppID)).Instrument(env.Telemetry.Registry),
		DeadLetters: events.NewDeadLetters(env.Client, cfg.stateStore, cfg.ordersAppID).Instrument(env.Telemetry.Registry),
		PubSub:      cfg.PubSub, OrdersTopic: cfg.ordersTopic,
		OrdersAppID: cfg.ordersAppID,
		Registry:    env.Telemetry.Registry,
	}), nil
}
