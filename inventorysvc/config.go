package main

import (
	"shop/platform/config"
	"shop/platform/contract"
	"shop/platform/service"
)

// settings is everything the service reads from its environment, once.
type settings struct {
	service.Settings
	stateStore     string // STATE_STORE: the inventory state store component
	ordersTopic    string // ORDERS_TOPIC: the topic of the order events the inventory reacts to
	inventoryTopic string // INVENTORY_TOPIC: the topic the inventory publishes its outcomes on
	usersAppID     string // USERS_APP_ID: app id of the user service (token keys)
	ordersAppID    string // ORDERS_APP_ID: app id of the order service, the only publisher of ORDERS_TOPIC
	seedDemo       bool   // SEED_DEMO_CATALOG: seed the demo catalog into an empty store at start
}

func loadSettings(lookup func(string) (string, bool)) (settings, error) {
	src := config.New(lookup)
	s := settings{
		Settings:       service.LoadSettings(src, 8082),
		stateStore:     src.String("STATE_STORE", "inventory-state"),
		ordersTopic:    src.String("ORDERS_TOPIC", contract.TopicOrders),
		inventoryTopic: src.String("INVENTORY_TOPIC", contract.TopicInventory),
		usersAppID:     src.String("USERS_APP_ID", "usersvc"),
		ordersAppID:    src.String("ORDERS_APP_ID", "ordersvc"),
		seedDemo:       src.Bool("SEED_DEMO_CATALOG", true),
	}
	return s, src.Err()
}
