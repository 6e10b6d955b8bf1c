package events

import (
	"context"
	"fmt"

	dapr "github.com/dapr/go-sdk/client"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"shop/platform/telemetry"
)

// PubSubClient is the part of the Dapr client a Publisher calls.
type PubSubClient interface {
	PublishEvent(ctx context.Context, pubsubName, topicName string, data any, opts ...dapr.PublishEventOption) error
}

// Publisher publishes a service's events on its topic of a Dapr pub/sub
// component. Each service's event room (orderevents, inventoryevents,
// userevents) builds its events from the contract and hands them here.
type Publisher struct {
	client PubSubClient
	pubsub string
	topic  string
}

// NewPublisher returns a publisher of events on topic of the component
// pubsub.
func NewPublisher(client PubSubClient, pubsub, topic string) *Publisher {
	return &Publisher{client: client, pubsub: pubsub, topic: topic}
}

// Publish publishes data, an event about the entity key (an order id, a
// user id), as JSON. key is the partition key, so that brokers that
// partition (Kafka) keep one entity's events in order.
//
// The publish is a span of its own: the sidecar's CloudEvent carries its
// trace context, so the consumers' work joins the publisher's trace.
func (p *Publisher) Publish(ctx context.Context, key string, data any) (err error) {
	ctx, span := telemetry.Start(ctx, "publish "+p.topic, trace.SpanKindProducer,
		attribute.String("messaging.destination.name", p.topic), attribute.String("messaging.message.key", key))
	defer func() { telemetry.End(span, err) }()
	err = p.client.PublishEvent(ctx, p.pubsub, p.topic, data,
		dapr.PublishEventWithMetadata(map[string]string{"partitionKey": key}))
	if err != nil {
		return fmt.Errorf("publish to %s/%s: %w", p.pubsub, p.topic, err)
	}
	return nil
}
