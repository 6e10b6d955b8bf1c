// Package orderevents publishes the order service's events (the contract's
// orders topic, docs/events.md) through the Dapr sidecar.
package orderevents

import (
	"context"

	"shop/platform/events"
)

// Publisher implements order.Publisher on a Dapr pub/sub component. The
// domain builds each event from the contract (order.CreatedEvent...).
type Publisher struct {
	events *events.Publisher
}

// New returns the publisher of the order events on topic of the component
// pubsub.
func New(client events.PubSubClient, pubsub, topic string) *Publisher {
	return &Publisher{events: events.NewPublisher(client, pubsub, topic)}
}

// Publish publishes event, an event of the order orderID, with the order id
// as partition key.
func (p *Publisher) Publish(ctx context.Context, orderID string, event any) error {
	return p.events.Publish(ctx, orderID, event)
}
