package main

import (
	"strings"
	"testing"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

func TestLoadSettings(t *testing.T) {
	s, err := loadSettings(env(nil))
	if err != nil || s.Port != 8082 || s.stateStore != "inventory-state" || s.PubSub != "pubsub" || !s.seedDemo ||
		s.ordersTopic != "orders" || s.inventoryTopic != "inventory" || s.usersAppID != "usersvc" {
		t.Errorf("loadSettings(empty) = %+v, %v; want the documented defaults", s, err)
	}
	s, err = loadSettings(env(map[string]string{"STATE_STORE": "other", "SEED_DEMO_CATALOG": "false",
		"ORDERS_TOPIC": "o2", "INVENTORY_TOPIC": "i2", "USERS_APP_ID": "users-1"}))
	if err != nil || s.stateStore != "other" || s.seedDemo || s.ordersTopic != "o2" || s.inventoryTopic != "i2" || s.usersAppID != "users-1" {
		t.Errorf("loadSettings() = %+v, %v; want the values from the environment", s, err)
	}
	_, err = loadSettings(env(map[string]string{"APP_PORT": "0", "SEED_DEMO_CATALOG": "maybe"}))
	if err == nil || !strings.Contains(err.Error(), "APP_PORT") || !strings.Contains(err.Error(), "SEED_DEMO_CATALOG") {
		t.Errorf("loadSettings(bad) error = %v; want one naming APP_PORT and SEED_DEMO_CATALOG", err)
	}
}
