// Package inventoryevents publishes the inventory service's events (the
// contract's inventory topic, docs/events.md) through the Dapr sidecar: the
// answer to every order.created.
package inventoryevents

import (
	"context"
	"fmt"

	"shop/inventorysvc/internal/inventory"
	"shop/platform/contract"
	"shop/platform/events"
)

// Publisher implements inventory.Publisher on a Dapr pub/sub component.
type Publisher struct {
	events *events.Publisher
}

// New returns the publisher of the inventory events on topic of the
// component pubsub.
func New(client events.PubSubClient, pubsub, topic string) *Publisher {
	return &Publisher{events: events.NewPublisher(client, pubsub, topic)}
}

// OutcomeEvent is the event that announces r's outcome: inventory.reserved
// or inventory.rejected.
func OutcomeEvent(r inventory.Reservation) (any, error) {
	switch r.Outcome {
	case inventory.OutcomeReserved:
		return contract.InventoryReserved{Type: contract.TypeInventoryReserved, OrderID: r.OrderID}, nil
	case inventory.OutcomeRejected:
		lines := make([]contract.RejectedLine, len(r.Rejections))
		for i, l := range r.Rejections {
			lines[i] = contract.RejectedLine{SKU: l.SKU, Reason: string(l.Reason)}
		}
		return contract.InventoryRejected{Type: contract.TypeInventoryRejected, OrderID: r.OrderID, Lines: lines}, nil
	default:
		return nil, fmt.Errorf("order %s has no outcome to publish", r.OrderID)
	}
}

// PublishOutcome publishes inventory.reserved or inventory.rejected for r,
// with the order id as partition key.
func (p *Publisher) PublishOutcome(ctx context.Context, r inventory.Reservation) error {
	data, err := OutcomeEvent(r)
	if err != nil {
		return err
	}
	return p.events.Publish(ctx, r.OrderID, data)
}
