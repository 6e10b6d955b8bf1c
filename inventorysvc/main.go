// Command inventorysvc serves products and stock behind its Dapr sidecar,
// and reserves, commits and releases stock for the order saga.
package main

import (
	"context"
	_ "embed"

	dapr "github.com/dapr/go-sdk/client"
	"github.com/sirupsen/logrus"

	"shop/inventorysvc/internal/inventory"
	"shop/inventorysvc/internal/inventoryevents"
	"shop/inventorysvc/internal/inventoryhttp"
	"shop/inventorysvc/internal/inventorystore"
	"shop/platform/auth"
	"shop/platform/events"
	"shop/platform/service"
)

// openAPI is the service's API document; a test holds it to the router.
//
//go:embed openapi.yaml
var openAPI []byte

func main() {
	service.Main(service.App[settings]{Name: "inventorysvc", OpenAPI: openAPI, Load: loadSettings, Start: start})
}

// start builds the inventory service on its sidecar's client.
func start(ctx context.Context, log *logrus.Entry, client dapr.Client, cfg settings) (service.Routes, error) {
	store := inventorystore.New(client, cfg.stateStore)
	svc := inventory.NewService(store, inventoryevents.New(client, cfg.pubsub, cfg.inventoryTopic))
	if cfg.seedDemo {
		seeded, err := inventory.SeedDemo(ctx, svc)
		if err != nil {
			return nil, err
		}
		log.WithField("seeded", seeded).Info("demo catalog checked")
	}
	return inventoryhttp.New(inventoryhttp.Deps{
		Service:     svc,
		Verifier:    auth.NewVerifier(auth.InvokeKeySource(client, cfg.usersAppID)),
		DeadLetters: events.NewDeadLetters(client, cfg.stateStore, cfg.ordersAppID),
		PubSub:      cfg.pubsub, OrdersTopic: cfg.ordersTopic,
		OrdersAppID: cfg.ordersAppID,
	}), nil
}
