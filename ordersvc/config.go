package main

import (
	"time"

	"shop/platform/config"
	"shop/platform/service"
)

// settings is everything the service reads from its environment, once.
type settings struct {
	service.Settings
	stateStore     string        // STATE_STORE: the orders state store component (with outbox metadata)
	pubsub         string        // PUBSUB: the pub/sub component carrying saga events
	ordersTopic    string        // ORDERS_TOPIC: where order events go (the outbox's topic too)
	inventoryTopic string        // INVENTORY_TOPIC: where inventory outcomes come from
	inventoryAppID string        // INVENTORY_APP_ID: app id of the inventory service
	usersAppID     string        // USERS_APP_ID: app id of the user service (token keys)
	ordersAppID    string        // ORDERS_APP_ID: this service's own app id, the publisher of ORDERS_TOPIC
	sagaTimeout    time.Duration // SAGA_TIMEOUT: a pending order older than this is cancelled
	timeoutBinding string        // SAGA_TIMEOUT_BINDING: the cron input binding that triggers the sweep
}

func loadSettings(lookup func(string) (string, bool)) (settings, error) {
	src := config.New(lookup)
	s := settings{
		Settings:       service.LoadSettings(src, 8083),
		stateStore:     src.String("STATE_STORE", "orders-state"),
		pubsub:         src.String("PUBSUB", "pubsub"),
		ordersTopic:    src.String("ORDERS_TOPIC", "orders"),
		inventoryTopic: src.String("INVENTORY_TOPIC", "inventory"),
		inventoryAppID: src.String("INVENTORY_APP_ID", "inventorysvc"),
		usersAppID:     src.String("USERS_APP_ID", "usersvc"),
		ordersAppID:    src.String("ORDERS_APP_ID", "ordersvc"),
		sagaTimeout:    src.Duration("SAGA_TIMEOUT", 2*time.Minute),
		timeoutBinding: src.String("SAGA_TIMEOUT_BINDING", "saga-timeout"),
	}
	return s, src.Err()
}
