// Package orderevents publishes the order service's events through the
// Dapr sidecar, on the orders topic, as docs/events.md describes them.
package orderevents

import (
	"context"
	"fmt"

	dapr "github.com/dapr/go-sdk/client"
)

// PubSubClient is the part of the Dapr client the publisher calls.
type PubSubClient interface {
	PublishEvent(ctx context.Context, pubsubName, topicName string, data any, opts ...dapr.PublishEventOption) error
}

// Publisher implements order.Publisher on a Dapr pub/sub component.
type Publisher struct {
	client PubSubClient
	pubsub string
	topic  string
}

// New returns a publisher of events on topic of the component pubsub.
func New(client PubSubClient, pubsub, topic string) *Publisher {
	return &Publisher{client: client, pubsub: pubsub, topic: topic}
}

// Publish publishes one event of an order. The order id is the partition
// key, so that brokers that partition (Kafka) keep one order's events in
// order.
func (p *Publisher) Publish(ctx context.Context, orderID string, event any) error {
	err := p.client.PublishEvent(ctx, p.pubsub, p.topic, event,
		dapr.PublishEventWithMetadata(map[string]string{"partitionKey": orderID}))
	if err != nil {
		return fmt.Errorf("publish to %s/%s: %w", p.pubsub, p.topic, err)
	}
	return nil
}
