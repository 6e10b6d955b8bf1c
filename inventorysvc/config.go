package main

import (
	"shop/platform/config"
	"shop/platform/service"
)

// settings is everything the service reads from its environment, once.
type settings struct {
	service.Settings
	stateStore string // STATE_STORE: the inventory state store component
	pubsub     string // PUBSUB: the pub/sub component carrying saga events
	seedDemo   bool   // SEED_DEMO_CATALOG: seed the demo catalog into an empty store at start
}

func loadSettings(lookup func(string) (string, bool)) (settings, error) {
	src := config.New(lookup)
	s := settings{
		Settings:   service.LoadSettings(src, 8082),
		stateStore: src.String("STATE_STORE", "inventory-state"),
		pubsub:     src.String("PUBSUB", "pubsub"),
		seedDemo:   src.Bool("SEED_DEMO_CATALOG", true),
	}
	return s, src.Err()
}
