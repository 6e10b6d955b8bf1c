package inventoryevents

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	dapr "github.com/dapr/go-sdk/client"

	"shop/inventorysvc/internal/inventory"
)

type fakeClient struct {
	pubsub, topic string
	data          []byte
	opts          int
	err           error
}

func (f *fakeClient) PublishEvent(_ context.Context, pubsub, topic string, data any, opts ...dapr.PublishEventOption) error {
	f.pubsub, f.topic, f.opts = pubsub, topic, len(opts)
	f.data, _ = json.Marshal(data)
	return f.err
}

func TestPublishOutcome(t *testing.T) {
	tests := []struct {
		name string
		r    inventory.Reservation
		want string
	}{
		{"reserved", inventory.Reservation{OrderID: "o1", Outcome: inventory.OutcomeReserved},
			`{"type":"inventory.reserved","order_id":"o1"}`},
		{"rejected", inventory.Reservation{OrderID: "o2", Outcome: inventory.OutcomeRejected,
			Rejections: []inventory.Rejection{{SKU: "A1", Reason: inventory.ReasonOutOfStock}, {SKU: "ZZ", Reason: inventory.ReasonUnknownProduct}}},
			`{"type":"inventory.rejected","order_id":"o2","lines":[{"sku":"A1","reason":"out_of_stock"},{"sku":"ZZ","reason":"unknown_product"}]}`},
	}
	for _, tt := range tests {
		c := &fakeClient{}
		if err := New(c, "pubsub", "inventory").PublishOutcome(context.Background(), tt.r); err != nil {
			t.Fatal(err)
		}
		if c.pubsub != "pubsub" || c.topic != "inventory" || string(c.data) != tt.want || c.opts != 1 {
			t.Errorf("%s: published %s on %s/%s; want %s on pubsub/inventory with a partition key", tt.name, c.data, c.pubsub, c.topic, tt.want)
		}
	}
	c := &fakeClient{}
	if err := New(c, "pubsub", "inventory").PublishOutcome(context.Background(), inventory.Reservation{OrderID: "o3"}); err == nil {
		t.Error("PublishOutcome(no outcome) succeeded; want an error")
	}
	c = &fakeClient{err: errors.New("broker down")}
	if err := New(c, "pubsub", "inventory").PublishOutcome(context.Background(), inventory.Reservation{OrderID: "o1", Outcome: inventory.OutcomeReserved}); err == nil {
		t.Error("PublishOutcome() with the broker down succeeded")
	}
}
