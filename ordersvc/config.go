package main

import (
	"shop/platform/config"
	"shop/platform/service"
)

// settings is everything the service reads from its environment, once.
type settings struct {
	service.Settings
	stateStore     string // STATE_STORE: the orders state store component
	pubsub         string // PUBSUB: the pub/sub component carrying saga events
	inventoryAppID string // INVENTORY_APP_ID: app id of the inventory service
	usersAppID     string // USERS_APP_ID: app id of the user service (token keys)
}

func loadSettings(lookup func(string) (string, bool)) (settings, error) {
	src := config.New(lookup)
	s := settings{
		Settings:       service.LoadSettings(src, 8083),
		stateStore:     src.String("STATE_STORE", "orders-state"),
		pubsub:         src.String("PUBSUB", "pubsub"),
		inventoryAppID: src.String("INVENTORY_APP_ID", "inventorysvc"),
		usersAppID:     src.String("USERS_APP_ID", "usersvc"),
	}
	return s, src.Err()
}
