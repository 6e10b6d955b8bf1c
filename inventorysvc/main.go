// Command inventorysvc serves products and stock behind its Dapr sidecar,
// and reserves, commits and releases stock for the order saga.
package main

import (
	"context"
	_ "embed"
	"fmt"

	"github.com/gorilla/mux"
	"github.com/sirupsen/logrus"

	"shop/inventorysvc/internal/inventory"
	"shop/inventorysvc/internal/inventoryevents"
	"shop/inventorysvc/internal/inventoryhttp"
	"shop/inventorysvc/internal/inventorystore"
	"shop/platform/auth"
	"shop/platform/events"
	"shop/platform/httpx"
	"shop/platform/service"
)

// openAPI documents every route; a test keeps it and the router in step.
//
//go:embed openapi.yaml
var openAPI []byte

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
	svc := inventory.NewService(store, inventoryevents.New(client, cfg.pubsub, cfg.inventoryTopic))
	if cfg.seedDemo {
		seeded, err := inventory.SeedDemo(ctx, svc)
		if err != nil {
			return err
		}
		log.WithField("seeded", seeded).Info("demo catalog checked")
	}
	h := inventoryhttp.New(inventoryhttp.Config{
		Service:     svc,
		Verifier:    auth.NewVerifier(auth.InvokeKeySource(client, cfg.usersAppID)),
		PubSub:      cfg.pubsub,
		OrdersTopic: cfg.ordersTopic,
		OrdersAppID: cfg.ordersAppID,
		OpenAPI:     openAPI,
		DeadLetters: events.NewDeadLetters(client, cfg.stateStore, cfg.ordersAppID),
	})
	return cfg.Serve(ctx, log, newRouter(h, health.Check))
}

// newRouter is every route of the service: health, the API, the saga's
// subscription.
func newRouter(h *inventoryhttp.Handler, ready func(context.Context) error) *mux.Router {
	router := httpx.NewRouter()
	httpx.HandleHealth(router, ready)
	h.Register(router)
	return router
}
