// Command ordersvc serves orders and runs the order saga behind its Dapr
// sidecar.
package main

import (
	"context"
	"fmt"

	"github.com/gorilla/mux"
	"github.com/sirupsen/logrus"

	"shop/ordersvc/internal/inventoryclient"
	"shop/ordersvc/internal/order"
	"shop/ordersvc/internal/orderhttp"
	"shop/ordersvc/internal/orderstore"
	"shop/ordersvc/internal/payment"
	"shop/platform/auth"
	"shop/platform/events"
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

	payments := payment.NewSimulated(client, cfg.stateStore)
	publisher := publisherFunc(func(ctx context.Context, event any) error {
		return client.PublishEvent(ctx, cfg.pubsub, cfg.ordersTopic, event)
	})
	svc := order.NewService(orderstore.New(client, cfg.stateStore), inventoryclient.New(client, cfg.inventoryAppID), payments, publisher, nil)
	verifier := auth.NewVerifier(auth.InvokeKeySource(client, cfg.usersAppID))

	router := httpx.NewRouter()
	httpx.HandleHealth(router, health.Check)
	deadLetters := events.NewDeadLetters(client, cfg.stateStore, cfg.ordersAppID, cfg.inventoryAppID)
	routes(router, orderhttp.New(svc, payments, verifier, deadLetters, orderhttp.Config{
		PubSub: cfg.pubsub, OrdersTopic: cfg.ordersTopic, InventoryTopic: cfg.inventoryTopic,
		SagaTimeout: cfg.sagaTimeout, TimeoutBinding: cfg.timeoutBinding,
		OrdersAppID: cfg.ordersAppID, InventoryAppID: cfg.inventoryAppID,
	}))
	return cfg.Serve(ctx, log, router)
}

// routes registers the API and its document.
func routes(r *mux.Router, h *orderhttp.Handler) {
	h.Register(r)
	handleOpenAPI(r)
}

// publisherFunc publishes an event-triggered step's outcome.
type publisherFunc func(ctx context.Context, event any) error

func (f publisherFunc) Publish(ctx context.Context, event any) error { return f(ctx, event) }
