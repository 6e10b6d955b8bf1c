// Command inventorysvc serves products and stock behind its Dapr sidecar.
package main

import (
	"context"
	"fmt"

	"github.com/sirupsen/logrus"

	"shop/inventorysvc/internal/inventory"
	"shop/inventorysvc/internal/inventoryhttp"
	"shop/inventorysvc/internal/inventorystore"
	"shop/platform/httpx"
	"shop/platform/service"
)

func main() { service.Main("inventorysvc", run) }

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

	store := inventorystore.New(client, cfg.stateStore)
	if cfg.seedDemo {
		seeded, err := inventory.SeedDemo(ctx, store)
		if err != nil {
			return err
		}
		log.WithField("seeded", seeded).Info("demo catalog checked")
	}

	router := httpx.NewRouter()
	httpx.HandleHealth(router, health.Check)
	inventoryhttp.New(store).Register(router)
	return cfg.Serve(ctx, log, router)
}
