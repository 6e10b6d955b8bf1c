package main

import (
	"shop/platform/config"
	"shop/platform/service"
)

// settings are the storefront's: the shared ones, and its own.
type settings struct {
	service.Settings
	UsersAppID     string // USERS_APP_ID: usersvc's app id
	InventoryAppID string // INVENTORY_APP_ID: inventorysvc's app id
	OrdersAppID    string // ORDERS_APP_ID: ordersvc's app id
	// SECURE_COOKIES=true marks the cookies Secure: set it wherever the
	// storefront is served over HTTPS (the Kubernetes manifests do).
	SecureCookies bool
	// SIGNIN_LIMIT: sign-in and registration attempts per minute per
	// client address (0: none; behind an ingress that limits per address).
	SignInLimit int
}

func loadSettings(lookup func(string) (string, bool)) (settings, error) {
	src := config.New(lookup)
	s := settings{
		Settings:       service.LoadSettings(src, 8080),
		UsersAppID:     src.String("USERS_APP_ID", "usersvc"),
		InventoryAppID: src.String("INVENTORY_APP_ID", "inventorysvc"),
		OrdersAppID:    src.String("ORDERS_APP_ID", "ordersvc"),
		SecureCookies:  src.Bool("SECURE_COOKIES", false),
		SignInLimit:    src.Int("SIGNIN_LIMIT", 30, 0, 100000),
	}
	return s, src.Err()
}
