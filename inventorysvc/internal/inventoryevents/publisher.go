// Package inventoryevents publishes the inventory service's events (the
// contract's inventory topic, docs/events.md) through the Dapr sidecar: the
// answer to every order.created.
package inventoryevents

import (
	"context"

	"shop/inventorysvc/internal/inventory"
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

// PublishOutcome publishes inventory.reserved or inventory.rejected for r,
// with the order id as partition key.
func (p *Publisher) PublishOutcome(ctx context.Context, r inventory.Reservation) error {
	data, err := inventory.OutcomeEvent(r)
	if err != nil {
		return err
	}
	return p.events.Publish(ctx, r.OrderID, data)
}
