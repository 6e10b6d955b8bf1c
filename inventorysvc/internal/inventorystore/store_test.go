package inventorystore

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	dapr "github.com/dapr/go-sdk/client"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"shop/inventorysvc/internal/inventory"
)

// fakeClient answers reads from a map and records the transactions.
type fakeClient struct {
	values map[string]string // key -> JSON
	etags  map[string]string
	txs    [][]*dapr.StateOperation
	txErr  error
}

func (f *fakeClient) GetState(_ context.Context, _, key string, _ map[string]string) (*dapr.StateItem, error) {
	return &dapr.StateItem{Key: key, Value: []byte(f.values[key]), Etag: f.etags[key]}, nil
}

func (f *fakeClient) GetBulkState(_ context.Context, _ string, keys []string, _ map[string]string, _ int32) ([]*dapr.BulkStateItem, error) {
	var items []*dapr.BulkStateItem
	for _, k := range keys {
		items = append(items, &dapr.BulkStateItem{Key: k, Value: []byte(f.values[k]), Etag: f.etags[k]})
	}
	return items, nil
}

func (f *fakeClient) ExecuteStateTransaction(_ context.Context, _ string, _ map[string]string, ops []*dapr.StateOperation) error {
	f.txs = append(f.txs, ops)
	return f.txErr
}

func etagOf(op *dapr.StateOperation) string {
	if op.Item.Etag == nil {
		return ""
	}
	return op.Item.Etag.Value
}

func TestCreateInsertsProductAndListsIt(t *testing.T) {
	c := &fakeClient{values: map[string]string{"catalog": `["A1","C1"]`}, etags: map[string]string{"catalog": "4"}}
	s := New(c, "inventory-state")
	if err := s.Create(context.Background(), inventory.Product{SKU: "B1", Name: "b", PriceCents: 1, Available: 2, Received: 2}); err != nil {
		t.Fatal(err)
	}
	if len(c.txs) != 1 || len(c.txs[0]) != 2 {
		t.Fatalf("transactions = %v; want one of two operations", c.txs)
	}
	product, cat := c.txs[0][0], c.txs[0][1]
	if product.Item.Key != "product:B1" || etagOf(product) != "" || product.Item.Options.Concurrency != dapr.StateConcurrencyFirstWrite {
		t.Errorf("product write = %+v; want an insert-if-absent of product:B1", product.Item)
	}
	if cat.Item.Key != "catalog" || etagOf(cat) != "4" || string(cat.Item.Value) != `["A1","B1","C1"]` {
		t.Errorf("catalog write = %s %q etag %q; want the sorted list guarded by ETag 4", cat.Item.Key, cat.Item.Value, etagOf(cat))
	}

	if err := s.Create(context.Background(), inventory.Product{SKU: "A1"}); !errors.Is(err, inventory.ErrExists) {
		t.Errorf("Create(listed: created since the product was read) = %v; want ErrExists", err)
	}
	c.values["product:D1"] = `{"sku":"D1"}`
	if err := s.Create(context.Background(), inventory.Product{SKU: "D1"}); !errors.Is(err, inventory.ErrExists) {
		t.Errorf("Create(existing) = %v; want ErrExists", err)
	}
}

func TestConflictsBecomeErrConflict(t *testing.T) {
	tests := []error{
		status.Error(codes.Aborted, "possible etag mismatch"),
		status.Error(codes.Internal, "failed to set key product:A1"),
	}
	for _, storeErr := range tests {
		c := &fakeClient{values: map[string]string{}, etags: map[string]string{}, txErr: storeErr}
		s := New(c, "inventory-state")
		err := s.Save(context.Background(), []inventory.Product{{SKU: "A1", Version: "3"}}, nil)
		if !errors.Is(err, inventory.ErrConflict) {
			t.Errorf("Save() with the store answering %v = %v; want ErrConflict", storeErr, err)
		}
	}
	c := &fakeClient{txErr: status.Error(codes.Unavailable, "connection refused")}
	if err := New(c, "s").Save(context.Background(), []inventory.Product{{SKU: "A1", Version: "3"}}, nil); errors.Is(err, inventory.ErrConflict) || err == nil {
		t.Errorf("Save() with the sidecar down = %v; want a non-conflict error", err)
	}
}

func TestLoadAndSave(t *testing.T) {
	c := &fakeClient{
		values: map[string]string{"product:A1": `{"sku":"A1","available":3,"received":3}`, "reservation:o1": `{"order_id":"o1","status":"reserved"}`},
		etags:  map[string]string{"product:A1": "11", "reservation:o1": "12"},
	}
	s := New(c, "inventory-state")
	products, r, err := s.Load(context.Background(), "o1", []string{"A1", "ZZ"})
	if err != nil {
		t.Fatal(err)
	}
	if len(products) != 1 || products["A1"].Version != "11" || products["A1"].Available != 3 {
		t.Errorf("Load() products = %+v; want A1 with version 11", products)
	}
	if r == nil || r.Status != inventory.StatusReserved || r.Version != "12" {
		t.Fatalf("Load() reservation = %+v; want o1 reserved, version 12", r)
	}
	if err := s.Save(context.Background(), []inventory.Product{products["A1"]}, r); err != nil {
		t.Fatal(err)
	}
	ops := c.txs[0]
	if len(ops) != 2 || etagOf(ops[0]) != "11" || etagOf(ops[1]) != "12" || ops[1].Item.Key != "reservation:o1" {
		t.Errorf("Save() operations guard with %q, %q; want the ETags read", etagOf(ops[0]), etagOf(ops[1]))
	}
	var stored map[string]any
	if err := json.Unmarshal(ops[0].Item.Value, &stored); err != nil || stored["Version"] != nil || stored["version"] != nil {
		t.Errorf("stored product %s; want no version field in the value", ops[0].Item.Value)
	}
	if err := s.Save(context.Background(), []inventory.Product{{SKU: "A1"}}, nil); err == nil {
		t.Error("Save() of a product without a version succeeded; want an error (products are only inserted by Create)")
	}
	broken := products["A1"]
	broken.Reserved = 1 // received 3 != available 3 + reserved 1
	if err := s.Save(context.Background(), []inventory.Product{broken}, nil); !errors.Is(err, inventory.ErrInvariant) {
		t.Errorf("Save() of a product whose stock does not add up = %v; want ErrInvariant", err)
	}
	if err := s.Save(context.Background(), nil, &inventory.Reservation{OrderID: "o2", Status: inventory.StatusReleased}); err != nil {
		t.Fatal(err)
	}
	if op := c.txs[len(c.txs)-1][0]; etagOf(op) != "" || op.Item.Options.Concurrency != dapr.StateConcurrencyFirstWrite {
		t.Errorf("new reservation write = %+v; want insert-if-absent", op.Item)
	}
}
