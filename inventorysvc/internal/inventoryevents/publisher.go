// Package inventoryevents publishes the inventory's saga events through the
// Dapr sidecar: the answer to every order.created, on the inventory topic,
// as docs/events.md describes them.
package inventoryevents

import (
	"context"
	"fmt"

	dapr "github.com/dapr/go-sdk/client"

	"shop/inventorysvc/internal/inventory"
)

// Event types published on the inventory topic.
const (
	TypeReserved = "inventory.reserved"
	TypeRejected = "inventory.rejected"
)

// PubSubClient is the part of the Dapr client the publisher calls.
type PubSubClient interface {
	PublishEvent(ctx context.Context, pubsubName, topicName string, data any, opts ...dapr.PublishEventOption) error
}

// Publisher implements inventory.Publisher on a Dapr pub/sub component.
type Publisher struct {
	client PubSubClient
	pubsub string
	topic  string
}

// New returns a publisher of events on topic of the component pubsub.
func New(client PubSubClient, pubsub, topic string) *Publisher {
	return &Publisher{client: client, pubsub: pubsub, topic: topic}
}

// Reserved is the data of inventory.reserved.
type Reserved struct {
	Type    string `json:"type"`
	OrderID string `json:"order_id"`
}

// Rejected is the data of inventory.rejected.
type Rejected struct {
	Type    string                `json:"type"`
	OrderID string                `json:"order_id"`
	Lines   []inventory.Rejection `json:"lines"`
}

// Data returns the event that announces r's outcome.
func Data(r inventory.Reservation) (any, error) {
	switch r.Outcome {
	case inventory.OutcomeReserved:
		return Reserved{Type: TypeReserved, OrderID: r.OrderID}, nil
	case inventory.OutcomeRejected:
		lines := r.Rejections
		if lines == nil {
			lines = []inventory.Rejection{}
		}
		return Rejected{Type: TypeRejected, OrderID: r.OrderID, Lines: lines}, nil
	default:
		return nil, fmt.Errorf("order %s has no outcome to publish", r.OrderID)
	}
}

// PublishOutcome publishes inventory.reserved or inventory.rejected for r.
// The order id is the partition key, so that brokers that partition (Kafka)
// keep one order's events in order.
func (p *Publisher) PublishOutcome(ctx context.Context, r inventory.Reservation) error {
	data, err := Data(r)
	if err != nil {
		return err
	}
	err = p.client.PublishEvent(ctx, p.pubsub, p.topic, data,
		dapr.PublishEventWithMetadata(map[string]string{"partitionKey": r.OrderID}))
	if err != nil {
		return fmt.Errorf("publish to %s/%s: %w", p.pubsub, p.topic, err)
	}
	return nil
}
