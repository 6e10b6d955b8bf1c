// Package userevents publishes the user service's events (docs/events.md)
// on Dapr pub/sub.
package userevents

import (
	"context"
	"fmt"
	"time"

	dapr "github.com/dapr/go-sdk/client"

	"shop/usersvc/internal/user"
)

// TypeRegistered is the type of the event of a new account.
const TypeRegistered = "user.registered"

// Publisher is the part of the Dapr client that publishes events.
type Publisher interface {
	PublishEvent(ctx context.Context, pubsubName, topicName string, data interface{}, opts ...dapr.PublishEventOption) error
}

// Events implements user.Events on a topic of the pub/sub component pubsub.
type Events struct {
	client Publisher
	pubsub string
	topic  string
}

// New returns the events of the user service on topic of the component
// pubsub.
func New(client Publisher, pubsub, topic string) *Events {
	return &Events{client: client, pubsub: pubsub, topic: topic}
}

// Registered is the data of a user.registered event.
type Registered struct {
	Type         string `json:"type"`
	UserID       string `json:"user_id"`
	Email        string `json:"email"`
	Name         string `json:"name"`
	Role         string `json:"role"`
	RegisteredAt string `json:"registered_at"`
}

// Registered publishes user.registered for u. It is published after the
// account is stored, not through the outbox, so it is at most once: a
// failure is reported to the caller, which logs it.
func (e *Events) Registered(ctx context.Context, u user.User) error {
	data := Registered{
		Type:         TypeRegistered,
		UserID:       u.ID,
		Email:        u.Email,
		Name:         u.Name,
		Role:         u.Role,
		RegisteredAt: u.CreatedAt.UTC().Format(time.RFC3339Nano),
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	// A struct is sent as JSON with content type application/json.
	if err := e.client.PublishEvent(ctx, e.pubsub, e.topic, data); err != nil {
		return fmt.Errorf("publish %s of %s: %w", TypeRegistered, u.ID, err)
	}
	return nil
}
