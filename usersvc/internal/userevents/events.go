// Package userevents publishes the user service's events (the contract's
// users topic, docs/events.md) through the Dapr sidecar.
package userevents

import (
	"context"
	"fmt"
	"time"

	"shop/platform/contract"
	"shop/platform/events"
	"shop/usersvc/internal/user"
)

// Publisher implements user.Events on a Dapr pub/sub component.
type Publisher struct {
	events *events.Publisher
}

// New returns the publisher of the user events on topic of the component
// pubsub.
func New(client events.PubSubClient, pubsub, topic string) *Publisher {
	return &Publisher{events: events.NewPublisher(client, pubsub, topic)}
}

// Registered publishes user.registered for u, with the user id as
// partition key. It is published after the account is stored, not through
// an outbox, so it is at most once: a failure is reported to the caller,
// which logs it.
func (p *Publisher) Registered(ctx context.Context, u user.User) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := p.events.Publish(ctx, u.ID, user.RegisteredEvent(u)); err != nil {
		return fmt.Errorf("publish %s of %s: %w", contract.TypeUserRegistered, u.ID, err)
	}
	return nil
}
