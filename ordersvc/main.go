// Command ordersvc serves orders and runs the order saga behind its Dapr
// sidecar.
package main

import (
	"context"
	"fmt"

	"github.com/sirupsen/logrus"

	"shop/platform/httpx"
	"shop/platform/service"
)

func main() { service.Main("ordersvc", run) }

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

	router := httpx.NewRouter()
	httpx.HandleHealth(router, health.Check)
	return cfg.Serve(ctx, log, router)
}
