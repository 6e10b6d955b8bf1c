package userevents

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	dapr "github.com/dapr/go-sdk/client"

	"shop/usersvc/internal/user"
)

type fakePublisher struct {
	pubsub, topic string
	data          []byte
	err           error
}

func (f *fakePublisher) PublishEvent(_ context.Context, pubsub, topic string, data interface{}, _ ...dapr.PublishEventOption) error {
	f.pubsub, f.topic = pubsub, topic
	f.data, _ = json.Marshal(data) // what the SDK sends for a struct
	return f.err
}

func TestRegisteredFollowsTheCatalog(t *testing.T) {
	p := &fakePublisher{}
	u := user.User{ID: "u1", Email: "ann@example.com", Name: "Ann", Role: user.RoleCustomer, PasswordHash: "$argon2id$secret", CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	if err := New(p, "pubsub", "users").Registered(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	if p.pubsub != "pubsub" || p.topic != "users" {
		t.Errorf("published on %s/%s; want pubsub/users", p.pubsub, p.topic)
	}
	var got map[string]any
	if err := json.Unmarshal(p.data, &got); err != nil {
		t.Fatal(err)
	}
	// docs/events.md: {type, user_id, email, name, role, registered_at}
	want := map[string]any{"type": "user.registered", "user_id": "u1", "email": "ann@example.com", "name": "Ann", "role": "customer", "registered_at": "2026-01-02T03:04:05Z"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("event data = %v; want %v (and never the password hash)", got, want)
	}
}

func TestRegisteredReportsFailure(t *testing.T) {
	boom := errors.New("broker down")
	err := New(&fakePublisher{err: boom}, "pubsub", "users").Registered(context.Background(), user.User{ID: "u1"})
	if !errors.Is(err, boom) {
		t.Errorf("Registered() = %v; want the publisher's error", err)
	}
}
