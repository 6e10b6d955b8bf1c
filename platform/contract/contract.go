// Package contract is the shop's event contract: the topics, the event
// types, the data each type carries and the reasons it may give. Publishers
// build their events from these structs and consumers decode into them, so
// that no service matches another service's string. docs/events.md is the
// catalog for readers; a test holds it to Catalog.
//
// It imports nothing but the standard library: a domain package may use it
// without depending on Dapr or HTTP.
package contract

import "time"

// Topics, by their default names (ORDERS_TOPIC, INVENTORY_TOPIC and
// USERS_TOPIC rename them).
const (
	TopicOrders    = "orders"    // published by ordersvc
	TopicInventory = "inventory" // published by inventorysvc
	TopicUsers     = "users"     // published by usersvc
)

// Event types, the "type" field of every event's data.
const (
	TypeOrderCreated      = "order.created"
	TypeOrderConfirmed    = "order.confirmed"
	TypeOrderCancelled    = "order.cancelled"
	TypeInventoryReserved = "inventory.reserved"
	TypeInventoryRejected = "inventory.rejected"
	TypeUserRegistered    = "user.registered"
)

// Reasons of order.cancelled.
const (
	ReasonPaymentDeclined     = "payment_declined"
	ReasonCancelledByCustomer = "cancelled_by_customer"
	ReasonSagaTimeout         = "saga_timeout"
)

// Reasons of a line of inventory.rejected.
const (
	ReasonOutOfStock     = "out_of_stock"
	ReasonUnknownProduct = "unknown_product"
	// ReasonOrderCancelled answers an order.created that arrived after the
	// order's order.cancelled.
	ReasonOrderCancelled = "order_cancelled"
)

// OrderItem is one priced line of an order.
type OrderItem struct {
	SKU            string `json:"sku"`
	Quantity       int64  `json:"quantity"`
	UnitPriceCents int64  `json:"unit_price_cents"`
}

// OrderCreated is the data of order.created.
type OrderCreated struct {
	Type       string      `json:"type"`
	OrderID    string      `json:"order_id"`
	UserID     string      `json:"user_id"`
	Items      []OrderItem `json:"items"`
	TotalCents int64       `json:"total_cents"`
	CreatedAt  time.Time   `json:"created_at"`
}

// OrderConfirmed is the data of order.confirmed.
type OrderConfirmed struct {
	Type    string `json:"type"`
	OrderID string `json:"order_id"`
}

// OrderCancelled is the data of order.cancelled.
type OrderCancelled struct {
	Type    string `json:"type"`
	OrderID string `json:"order_id"`
	Reason  string `json:"reason"`
}

// InventoryReserved is the data of inventory.reserved.
type InventoryReserved struct {
	Type    string `json:"type"`
	OrderID string `json:"order_id"`
}

// RejectedLine is a line of an order that could not be reserved, and why.
type RejectedLine struct {
	SKU    string `json:"sku"`
	Reason string `json:"reason"`
}

// InventoryRejected is the data of inventory.rejected: Lines lists the
// lines that failed.
type InventoryRejected struct {
	Type    string         `json:"type"`
	OrderID string         `json:"order_id"`
	Lines   []RejectedLine `json:"lines"`
}

// UserRegistered is the data of user.registered.
type UserRegistered struct {
	Type         string `json:"type"`
	UserID       string `json:"user_id"`
	Email        string `json:"email"`
	Name         string `json:"name"`
	Role         string `json:"role"`
	RegisteredAt string `json:"registered_at"`
}

// Envelope is the part every event's data has: its type and the id of what
// it is about. A consumer reads it first to choose the struct to decode.
type Envelope struct {
	Type    string `json:"type"`
	OrderID string `json:"order_id"`
}

// Event is one entry of the catalog.
type Event struct {
	Topic string
	Type  string
	// Data is the zero value of the event's data struct.
	Data any
	// Reasons are the values its reason fields may take.
	Reasons []string
}

// Catalog is every event of the shop, by topic.
var Catalog = []Event{
	{Topic: TopicOrders, Type: TypeOrderCreated, Data: OrderCreated{}},
	{Topic: TopicOrders, Type: TypeOrderConfirmed, Data: OrderConfirmed{}},
	{Topic: TopicOrders, Type: TypeOrderCancelled, Data: OrderCancelled{},
		Reasons: []string{ReasonPaymentDeclined, ReasonCancelledByCustomer, ReasonSagaTimeout}},
	{Topic: TopicInventory, Type: TypeInventoryReserved, Data: InventoryReserved{}},
	{Topic: TopicInventory, Type: TypeInventoryRejected, Data: InventoryRejected{},
		Reasons: []string{ReasonOutOfStock, ReasonUnknownProduct, ReasonOrderCancelled}},
	{Topic: TopicUsers, Type: TypeUserRegistered, Data: UserRegistered{}},
}
