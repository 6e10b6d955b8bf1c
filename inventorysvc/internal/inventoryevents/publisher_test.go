package inventoryevents

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	runtimev1 "github.com/dapr/dapr/pkg/proto/runtime/v1"
	dapr "github.com/dapr/go-sdk/client"

	"shop/inventorysvc/internal/inventory"
)

type fakeClient struct {
	pubsub, topic string
	data          []byte
	meta          map[string]string
	err           error
}

func (f *fakeClient) PublishEvent(_ context.Context, pubsub, topic string, data any, opts ...dapr.PublishEventOption) error {
	req := &runtimev1.PublishEventRequest{}
	for _, o := range opts {
		o(req)
	}
	f.pubsub, f.topic, f.meta = pubsub, topic, req.GetMetadata()
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
		if c.pubsub != "pubsub" || c.topic != "inventory" || string(c.data) != tt.want || c.meta["partitionKey"] != tt.r.OrderID {
			t.Errorf("%s: published %s on %s/%s with %v; want %s on pubsub/inventory with the order id as partitionKey", tt.name, c.data, c.pubsub, c.topic, c.meta, tt.want)
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
