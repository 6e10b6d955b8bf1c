// Command ordersvc serves orders and runs the order saga behind its Dapr
// sidecar.
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/gorilla/mux"
	"github.com/sirupsen/logrus"

	"shop/ordersvc/internal/inventoryclient"
	"shop/ordersvc/internal/order"
	"shop/ordersvc/internal/orderevents"
	"shop/ordersvc/internal/orderhttp"
	"shop/ordersvc/internal/orderstore"
	"shop/ordersvc/internal/payment"
	"shop/platform/auth"
	"shop/platform/daprstate"
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

	db := daprstate.New(client, cfg.stateStore)
	payments := payment.NewSimulated(db, payment.WithDelay(cfg.paymentDelay))
	opts := []order.Option{order.WithReport(func(ctx context.Context, err error) {
		httpx.Logger(ctx).WithError(err).Warn("order event not published; the sweep will publish it")
	})}
	if cfg.crashAfterCommit != "" {
		log.WithField("event", cfg.crashAfterCommit).Warn("fault hook on: the process exits after committing an order record with this event")
		opts = append(opts, order.WithAfterCommit(func(eventType string) {
			if eventType == cfg.crashAfterCommit {
				log.WithField("event", eventType).Error("fault hook: exiting between commit and publish")
				os.Exit(3)
			}
		}))
	}
	if d := cfg.stallAfterClaim; d > 0 {
		log.WithField("stall", d).Warn("fault hook on: a request that claims an Idempotency-Key stalls before creating its order")
		opts = append(opts, order.WithAfterClaim(func(ctx context.Context) {
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-ctx.Done():
			case <-t.C:
			}
		}))
	}
	svc := order.NewService(orderstore.New(db), inventoryclient.New(client, cfg.inventoryAppID), payments,
		orderevents.New(client, cfg.pubsub, cfg.ordersTopic), opts...)
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
