package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	dapr "github.com/dapr/go-sdk/client"

	"shop/platform/daprstate"
	"shop/platform/httpx"
)

// DeadLetterTopic is where the sidecar sends the messages of topic that
// failed all their deliveries, or that a handler answered DROP for.
func DeadLetterTopic(topic string) string { return topic + "-deadletter" }

// DeadLetter is one message that could not be processed.
type DeadLetter struct {
	ID         string          `json:"id"`
	Topic      string          `json:"topic"`
	Type       string          `json:"type"`
	Data       json.RawMessage `json:"data"`
	ReceivedAt time.Time       `json:"received_at"`
}

// StateClient is the part of the Dapr client DeadLetters calls.
type StateClient interface {
	GetState(ctx context.Context, storeName, key string, meta map[string]string) (*dapr.StateItem, error)
	SaveStateWithETag(ctx context.Context, storeName, key string, data []byte, etag string, meta map[string]string, so ...dapr.StateOption) error
}

// DeadLetters keeps the latest dead letters a service received (the newest
// Keep of them) in its state store, so that an operator can see what failed
// and why, and logs each one.
type DeadLetters struct {
	client StateClient
	store  string
	// Keep bounds how many dead letters are kept.
	Keep int
}

// NewDeadLetters returns an inbox kept in the state store called store.
func NewDeadLetters(client StateClient, store string) *DeadLetters {
	return &DeadLetters{client: client, store: store, Keep: 200}
}

const deadLettersKey = "dead-letters"

// Handler is the subscription endpoint of the dead-letter topics.
func (d *DeadLetters) Handler() http.HandlerFunc {
	return Handle(func(r *http.Request, e CloudEvent) error {
		data, _ := e.Payload()
		if data == nil || !json.Valid(data) {
			data, _ = json.Marshal(string(e.Data))
		}
		letter := DeadLetter{ID: e.ID, Topic: e.Topic, Type: e.Type, Data: data, ReceivedAt: time.Now().UTC()}
		httpx.Logger(r.Context()).WithFields(map[string]any{"event_id": e.ID, "topic": e.Topic, "data": string(data)}).Error("dead letter")
		return d.add(r.Context(), letter)
	})
}

func (d *DeadLetters) add(ctx context.Context, letter DeadLetter) error {
	for attempt := 0; attempt < 20; attempt++ {
		letters, etag, err := d.get(ctx)
		if err != nil {
			return err
		}
		for _, l := range letters {
			if l.ID == letter.ID && l.Topic == letter.Topic {
				return nil // redelivered
			}
		}
		letters = append(letters, letter)
		if len(letters) > d.Keep {
			letters = letters[len(letters)-d.Keep:]
		}
		b, err := json.Marshal(letters)
		if err != nil {
			return err
		}
		err = d.client.SaveStateWithETag(ctx, d.store, deadLettersKey, b, etag, nil,
			dapr.WithConcurrency(dapr.StateConcurrencyFirstWrite))
		if err == nil || !daprstate.IsConflict(err) {
			return err
		}
	}
	return errors.New("dead letters: too many concurrent updates")
}

func (d *DeadLetters) get(ctx context.Context) ([]DeadLetter, string, error) {
	item, err := d.client.GetState(ctx, d.store, deadLettersKey, nil)
	if err != nil {
		return nil, "", fmt.Errorf("get dead letters: %w", err)
	}
	var letters []DeadLetter
	if len(item.Value) > 0 {
		if err := json.Unmarshal(item.Value, &letters); err != nil {
			return nil, "", fmt.Errorf("decode dead letters: %w", err)
		}
	}
	return letters, item.Etag, nil
}

// ServeList answers the kept dead letters, newest last. Mount it behind an
// admin check.
func (d *DeadLetters) ServeList(w http.ResponseWriter, r *http.Request) {
	letters, _, err := d.get(r.Context())
	if err != nil {
		httpx.Logger(r.Context()).WithError(err).Error("list dead letters")
		httpx.WriteProblem(w, httpx.NewProblem(http.StatusServiceUnavailable, "dead letters cannot be read now"))
		return
	}
	if letters == nil {
		letters = []DeadLetter{}
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"dead_letters": letters})
}
