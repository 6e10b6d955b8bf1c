package main

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"shop/ordersvc/internal/order"
	"shop/platform/config"
	"shop/platform/contract"
	"shop/platform/service"
)

// settings is everything the service reads from its environment, once.
type settings struct {
	service.Settings
	stateStore     string        // STATE_STORE: the orders state store component
	ordersTopic    string        // ORDERS_TOPIC: where order events go
	inventoryTopic string        // INVENTORY_TOPIC: where inventory outcomes come from
	inventoryAppID string        // INVENTORY_APP_ID: app id of the inventory service
	usersAppID     string        // USERS_APP_ID: app id of the user service (token keys)
	ordersAppID    string        // ORDERS_APP_ID: this service's own app id, the publisher of ORDERS_TOPIC
	sagaTimeout    time.Duration // SAGA_TIMEOUT: a pending order older than this is cancelled
	timeoutBinding string        // SAGA_TIMEOUT_BINDING: the cron input binding that triggers the sweep

	// Test-only settings, off by default.
	// FAULT_CRASH_AFTER_COMMIT (created or cancelled): the process exits
	// right after committing an order record carrying that event, before
	// publishing it, so that tests can check the sweep publishes it.
	crashAfterCommit string
	// PAYMENT_DELAY: every new charge takes this long (tests of the race
	// between the saga timeout and the confirm step).
	paymentDelay time.Duration
	// PAYMENT_FAILURES (0 to 1): this fraction of new charges fails
	// transiently, half before and half after the charge (tests of the
	// saga against a flaky provider).
	paymentFailures float64
	// FAULT_STALL_AFTER_CLAIM: a request that claimed a new
	// Idempotency-Key waits this long before creating its order (tests of
	// a duplicate request racing a slow original).
	stallAfterClaim time.Duration
}

// faults are the values of FAULT_CRASH_AFTER_COMMIT.
var faults = map[string]string{"created": order.TypeOrderCreated, "cancelled": order.TypeOrderCancelled}

func loadSettings(lookup func(string) (string, bool)) (settings, error) {
	src := config.New(lookup)
	s := settings{
		Settings:        service.LoadSettings(src, 8083),
		stateStore:      src.String("STATE_STORE", "orders-state"),
		ordersTopic:     src.String("ORDERS_TOPIC", contract.TopicOrders),
		inventoryTopic:  src.String("INVENTORY_TOPIC", contract.TopicInventory),
		inventoryAppID:  src.String("INVENTORY_APP_ID", "inventorysvc"),
		usersAppID:      src.String("USERS_APP_ID", "usersvc"),
		ordersAppID:     src.String("ORDERS_APP_ID", "ordersvc"),
		sagaTimeout:     src.Duration("SAGA_TIMEOUT", 2*time.Minute),
		timeoutBinding:  src.String("SAGA_TIMEOUT_BINDING", "saga-timeout"),
		paymentDelay:    src.Duration("PAYMENT_DELAY", 0),
		stallAfterClaim: src.Duration("FAULT_STALL_AFTER_CLAIM", 0),
	}
	var rateErr error
	if v := src.String("PAYMENT_FAILURES", ""); v != "" {
		rate, err := strconv.ParseFloat(v, 64)
		if err != nil || rate < 0 || rate > 1 {
			rateErr = fmt.Errorf("PAYMENT_FAILURES=%q: want a fraction from 0 to 1", v)
		}
		s.paymentFailures = rate
	}
	var faultErr error
	if v := src.String("FAULT_CRASH_AFTER_COMMIT", ""); v != "" {
		typ, ok := faults[v]
		if !ok {
			faultErr = fmt.Errorf("FAULT_CRASH_AFTER_COMMIT=%q: want created or cancelled", v)
		}
		s.crashAfterCommit = typ
	}
	return s, errors.Join(src.Err(), faultErr, rateErr)
}
