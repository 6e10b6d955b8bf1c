package main

import (
	"context"
	"os"
	"time"

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

// start builds the order service on its sidecar's client.
func start(ctx context.Context, env service.Env, cfg settings) (service.Routes, error) {
	db := daprstate.New(env.Client, cfg.stateStore)
	payOpts := []payment.Option{payment.WithDelay(cfg.paymentDelay), payment.WithCharged(func(ctx context.Context, orderID string, amountCents int64, approved bool) {
		httpx.Logger(ctx).WithFields(map[string]any{"order_id": orderID, "amount_cents": amountCents, "approved": approved}).Info("payment charged")
	})}
	if cfg.paymentFailures > 0 {
		env.Log.WithField("rate", cfg.paymentFailures).Warn("fault hook on: this fraction of new charges fails as a flaky provider would")
		payOpts = append(payOpts, payment.WithFailures(cfg.paymentFailures))
	}
	payments := payment.NewSimulated(db, payOpts...)
	metrics := orderhttp.NewMetrics(env.Telemetry.Registry)
	opts := []order.Option{order.WithReport(func(ctx context.Context, err error) {
		httpx.Logger(ctx).WithError(err).Warn("order event not published; the sweep will publish it")
	}), order.WithOutcome(metrics.Outcome)}
	if cfg.crashAfterCommit != "" {
		env.Log.WithField("event", cfg.crashAfterCommit).Warn("fault hook on: the process exits after committing an order record with this event")
		opts = append(opts, order.WithAfterCommit(func(eventType string) {
			if eventType == cfg.crashAfterCommit {
				env.Log.WithField("event", eventType).Error("fault hook: exiting between commit and publish")
				os.Exit(3)
			}
		}))
	}
	if d := cfg.stallAfterClaim; d > 0 {
		env.Log.WithField("stall", d).Warn("fault hook on: a request that claims an Idempotency-Key stalls before creating its order")
		opts = append(opts, order.WithAfterClaim(func(ctx context.Context) {
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-ctx.Done():
			case <-t.C:
			}
		}))
	}
	svc := order.NewService(orderstore.New(db), inventoryclient.New(env.Client, cfg.inventoryAppID), payments,
		orderevents.New(env.Client, cfg.PubSub, cfg.ordersTopic), opts...)
	verifier := auth.NewVerifier(auth.InvokeKeySource(env.Client, cfg.usersAppID)).Instrument(env.Telemetry.Registry)

	return orderhttp.New(orderhttp.Deps{
		Service:     svc,
		Payments:    payments,
		Verifier:    verifier,
		DeadLetters: events.NewDeadLetters(env.Client, cfg.stateStore, cfg.ordersAppID, cfg.inventoryAppID).Instrument(env.Telemetry.Registry),
		PubSub:      cfg.PubSub, OrdersTopic: cfg.ordersTopic, InventoryTopic: cfg.inventoryTopic,
		OrdersAppID: cfg.ordersAppID, InventoryAppID: cfg.inventoryAppID,
		SagaTimeout: cfg.sagaTimeout, TimeoutBinding: cfg.timeoutBinding,
		Metrics: metrics,
	}), nil
}
