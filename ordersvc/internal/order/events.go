package order

import "shop/platform/contract"

// Event types of the order service's topic, as the event contract names
// them (platform/contract, docs/events.md).
const (
	TypeOrderCreated   = contract.TypeOrderCreated
	TypeOrderConfirmed = contract.TypeOrderConfirmed
	TypeOrderCancelled = contract.TypeOrderCancelled
)

// CreatedEvent is the order.created event of o.
func CreatedEvent(o Order) contract.OrderCreated {
	items := make([]contract.OrderItem, len(o.Items))
	for i, it := range o.Items {
		items[i] = contract.OrderItem(it)
	}
	return contract.OrderCreated{Type: TypeOrderCreated, OrderID: o.ID, UserID: o.UserID, Items: items, TotalCents: o.TotalCents, CreatedAt: o.CreatedAt}
}

// CancelledEvent is the order.cancelled event of o.
func CancelledEvent(o Order) contract.OrderCancelled {
	return contract.OrderCancelled{Type: TypeOrderCancelled, OrderID: o.ID, Reason: o.StatusReason}
}

// ConfirmedEvent is the order.confirmed event of o.
func ConfirmedEvent(o Order) contract.OrderConfirmed {
	return contract.OrderConfirmed{Type: TypeOrderConfirmed, OrderID: o.ID}
}
