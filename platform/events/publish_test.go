package events

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	runtimev1 "github.com/dapr/dapr/pkg/proto/runtime/v1"
	dapr "github.com/dapr/go-sdk/client"
)

type fakePubSub struct {
	pubsub, topic string
	meta          map[string]string
	data          []byte
	err           error
}

func (f *fakePubSub) PublishEvent(_ context.Context, pubsub, topic string, data any, opts ...dapr.PublishEventOption) error {
	req := &runtimev1.PublishEventRequest{}
	for _, o := range opts {
		o(req)
	}
	f.pubsub, f.topic, f.meta = pubsub, topic, req.GetMetadata()
	f.data, _ = json.Marshal(data)
	return f.err
}

func TestPublishKeysByEntity(t *testing.T) {
	c := &fakePubSub{}
	if err := NewPublisher(c, "pubsub", "orders").Publish(context.Background(), "o1", map[string]string{"type": "x"}); err != nil {
		t.Fatal(err)
	}
	if c.pubsub != "pubsub" || c.topic != "orders" || c.meta["partitionKey"] != "o1" || string(c.data) != `{"type":"x"}` {
		t.Errorf("Publish() sent %s on %s/%s with %v; want the data on pubsub/orders keyed o1", c.data, c.pubsub, c.topic, c.meta)
	}
	boom := errors.New("broker down")
	if err := NewPublisher(&fakePubSub{err: boom}, "pubsub", "orders").Publish(context.Background(), "o1", nil); !errors.Is(err, boom) {
		t.Errorf("Publish() = %v; want the client's error", err)
	}
}

func TestSubscriptions(t *testing.T) {
	subs := Subscriptions("pubsub", Route{Topic: "inventory", Route: "/events/inventory"}, Route{Topic: "orders", Route: "/events/orders"})
	rec := httptest.NewRecorder()
	ServeSubscriptions(subs)(rec, httptest.NewRequest("GET", "/dapr/subscribe", nil))
	want := `[{"pubsubname":"pubsub","topic":"inventory","route":"/events/inventory","deadLetterTopic":"inventory-deadletter"},` +
		`{"pubsubname":"pubsub","topic":"orders","route":"/events/orders","deadLetterTopic":"orders-deadletter"},` +
		`{"pubsubname":"pubsub","topic":"inventory-deadletter","route":"/events/dead-letters"},` +
		`{"pubsubname":"pubsub","topic":"orders-deadletter","route":"/events/dead-letters"}]`
	if got := strings.TrimSpace(rec.Body.String()); rec.Code != 200 || got != want {
		t.Errorf("GET /dapr/subscribe = %d %s; want %s", rec.Code, got, want)
	}
}
