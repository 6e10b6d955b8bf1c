package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"net/http"
	"slices"
	"time"

	dapr "github.com/dapr/go-sdk/client"
	"github.com/prometheus/client_golang/prometheus"

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
	GetBulkState(ctx context.Context, storeName string, keys []string, meta map[string]string, parallelism int32) ([]*dapr.BulkStateItem, error)
	SaveState(ctx context.Context, storeName, key string, data []byte, meta map[string]string, so ...dapr.StateOption) error
	SaveStateWithETag(ctx context.Context, storeName, key string, data []byte, etag string, meta map[string]string, so ...dapr.StateOption) error
}

// DeadLetters keeps the dead letters a service received in its state store,
// so that an operator can see what failed and why, and logs each one. Each
// letter is its own key; an index sharded over a few keys lists the newest
// Keep of each shard, so that a flood of dead letters does not make them
// wait for each other.
type DeadLetters struct {
	client StateClient
	store  string
	// Keep bounds how many letters each index shard lists.
	Keep int
	// Publishers are the app ids that publish the topics whose dead letters
	// arrive here: a dead letter is the original event, with the original
	// publisher as its source. A letter from any other source is dropped.
	Publishers []string
	received   *prometheus.CounterVec
}

// Instrument registers dead_letters_received_total, the dead letters
// stored, by topic, on reg.
func (d *DeadLetters) Instrument(reg prometheus.Registerer) *DeadLetters {
	d.received = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "dead_letters_received_total",
		Help: "Dead letters stored (events that exhausted their retries or were dropped), by dead-letter topic; a redelivered letter counts again.",
	}, []string{"topic"})
	reg.MustRegister(d.received)
	return d
}

// NewDeadLetters returns an inbox kept in the state store called store, of
// the dead letters of topics that publishers publish.
func NewDeadLetters(client StateClient, store string, publishers ...string) *DeadLetters {
	return &DeadLetters{client: client, store: store, Keep: 50, Publishers: publishers}
}

const deadLetterShards = 8

func deadLetterKey(topic, id string) string { return "dead-letter:" + topic + ":" + id }

func deadLetterIndex(key string) string {
	h := fnv.New32a()
	h.Write([]byte(key))
	return fmt.Sprintf("dead-letters:%d", h.Sum32()%deadLetterShards)
}

// Handler is the subscription endpoint of the dead-letter topics.
func (d *DeadLetters) Handler() http.HandlerFunc {
	return Handle(func(r *http.Request, e CloudEvent) error {
		if err := checkSource(e, d.Publishers); err != nil {
			return err
		}
		data, _ := e.Payload()
		if data == nil || !json.Valid(data) {
			data, _ = json.Marshal(string(e.Data))
		}
		letter := DeadLetter{ID: e.ID, Topic: e.Topic, Type: e.Type, Data: data, ReceivedAt: time.Now().UTC()}
		httpx.Logger(r.Context()).WithFields(map[string]any{"event_id": e.ID, "topic": e.Topic, "data": string(data)}).Error("dead letter")
		if err := d.add(r.Context(), letter); err != nil {
			return err
		}
		if d.received != nil {
			d.received.WithLabelValues(e.Topic).Inc()
		}
		return nil
	})
}

func (d *DeadLetters) add(ctx context.Context, letter DeadLetter) error {
	key := deadLetterKey(letter.Topic, letter.ID)
	b, err := json.Marshal(letter)
	if err != nil {
		return err
	}
	if err := d.client.SaveState(ctx, d.store, key, b, nil); err != nil {
		return fmt.Errorf("save dead letter: %w", err)
	}
	index := deadLetterIndex(key)
	for attempt := 0; attempt < 50; attempt++ {
		var keys []string
		item, err := d.client.GetState(ctx, d.store, index, nil)
		if err != nil {
			return fmt.Errorf("get dead letters: %w", err)
		}
		if len(item.Value) > 0 {
			if err := json.Unmarshal(item.Value, &keys); err != nil {
				return fmt.Errorf("decode dead letters: %w", err)
			}
		}
		if slices.Contains(keys, key) {
			return nil // redelivered
		}
		keys = append(keys, key)
		if len(keys) > d.Keep {
			keys = keys[len(keys)-d.Keep:]
		}
		b, err := json.Marshal(keys)
		if err != nil {
			return err
		}
		err = d.client.SaveStateWithETag(ctx, d.store, index, b, item.Etag, nil,
			dapr.WithConcurrency(dapr.StateConcurrencyFirstWrite))
		if err == nil || !daprstate.IsConflict(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(1+rand.IntN(10*(attempt+1))) * time.Millisecond):
		}
	}
	return errors.New("dead letters: too many concurrent updates")
}

// list returns the indexed dead letters, oldest first.
func (d *DeadLetters) list(ctx context.Context) ([]DeadLetter, error) {
	indexes := make([]string, deadLetterShards)
	for i := range indexes {
		indexes[i] = fmt.Sprintf("dead-letters:%d", i)
	}
	items, err := d.client.GetBulkState(ctx, d.store, indexes, nil, deadLetterShards)
	if err != nil {
		return nil, fmt.Errorf("get dead letters: %w", err)
	}
	var keys []string
	for _, it := range items {
		var shard []string
		if len(it.Value) > 0 {
			if err := json.Unmarshal(it.Value, &shard); err != nil {
				return nil, fmt.Errorf("decode %s: %w", it.Key, err)
			}
		}
		keys = append(keys, shard...)
	}
	letters := []DeadLetter{}
	if len(keys) == 0 {
		return letters, nil
	}
	items, err = d.client.GetBulkState(ctx, d.store, keys, nil, 8)
	if err != nil {
		return nil, fmt.Errorf("get dead letters: %w", err)
	}
	for _, it := range items {
		var l DeadLetter
		if len(it.Value) == 0 || json.Unmarshal(it.Value, &l) != nil {
			continue
		}
		letters = append(letters, l)
	}
	slices.SortStableFunc(letters, func(a, b DeadLetter) int { return a.ReceivedAt.Compare(b.ReceivedAt) })
	return letters, nil
}

// ServeList answers the kept dead letters, newest last. Mount it behind an
// admin check.
func (d *DeadLetters) ServeList(w http.ResponseWriter, r *http.Request) {
	letters, err := d.list(r.Context())
	if err != nil {
		httpx.Logger(r.Context()).WithError(err).Error("list dead letters")
		httpx.WriteProblem(w, httpx.NewProblem(http.StatusServiceUnavailable, "dead letters cannot be read now"))
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"dead_letters": letters})
}
