package order

import "time"

// Event types (docs/events.md).
const (
	TypeOrderCreated      = "order.created"
	TypeOrderConfirmed    = "order.confirmed"
	TypeOrderCancelled    = "order.cancelled"
	TypeInventoryReserved = "inventory.reserved"
	TypeInventoryRejected = "inventory.rejected"
)

// Created is the data of order.created.
type Created struct {
	Type       string    `json:"type"`
	OrderID    string    `json:"order_id"`
	UserID     string    `json:"user_id"`
	Items      []Item    `json:"items"`
	TotalCents int64     `json:"total_cents"`
	CreatedAt  time.Time `json:"created_at"`
}

// Confirmed is the data of order.confirmed.
type Confirmed struct {
	Type    string `json:"type"`
	OrderID string `json:"order_id"`
}

// Cancelled is the data of order.cancelled.
type Cancelled struct {
	Type    string `json:"type"`
	OrderID string `json:"order_id"`
	Reason  string `json:"reason"`
}

// InventoryOutcome is the data of inventory.reserved and inventory.rejected.
type InventoryOutcome struct {
	Type    string `json:"type"`
	OrderID string `json:"order_id"`
	Lines   []struct {
		SKU    string `json:"sku"`
		Reason string `json:"reason"`
	} `json:"lines,omitempty"`
}

// CreatedEvent is the order.created event of o.
func CreatedEvent(o Order) Created {
	return Created{Type: TypeOrderCreated, OrderID: o.ID, UserID: o.UserID, Items: o.Items, TotalCents: o.TotalCents, CreatedAt: o.CreatedAt}
}

// CancelledEvent is the order.cancelled event of o.
func CancelledEvent(o Order) Cancelled {
	return Cancelled{Type: TypeOrderCancelled, OrderID: o.ID, Reason: o.StatusReason}
}

// ConfirmedEvent is the order.confirmed event of o.
func ConfirmedEvent(o Order) Confirmed {
	return Confirmed{Type: TypeOrderConfirmed, OrderID: o.ID}
}
