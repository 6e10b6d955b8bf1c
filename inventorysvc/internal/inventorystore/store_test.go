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

// write is one single-key write the store made.
type write struct {
	key, value, etag string
	firstWrite       bool
}

// fakeClient answers reads from a map and records the writes.
type fakeClient struct {
	values   map[string]string // key -> JSON
	etags    map[string]string
	writes   []write
	writeErr error
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

func (f *fakeClient) SaveState(ctx context.Context, store, key string, data []byte, meta map[string]string, so ...dapr.StateOption) error {
	return f.SaveStateWithETag(ctx, store, key, data, "", meta, so...)
}

func (f *fakeClient) SaveStateWithETag(_ context.Context, _, key string, data []byte, etag string, _ map[string]string, so ...dapr.StateOption) error {
	opts := &dapr.StateOptions{}
	for _, o := range so {
		o(opts)
	}
	f.writes = append(f.writes, write{key, string(data), etag, opts.Concurrency == dapr.StateConcurrencyFirstWrite})
	return f.writeErr
}

func TestInsertProductAndList(t *testing.T) {
	c := &fakeClient{values: map[string]string{"catalog": `["A1","C1"]`}, etags: map[string]string{"catalog": "4"}}
	s := New(c, "inventory-state")
	ctx := context.Background()
	if err := s.InsertProduct(ctx, inventory.Product{SKU: "B1", Name: "b", PriceCents: 1, Available: 2, Received: 2}); err != nil {
		t.Fatal(err)
	}
	if len(c.writes) != 1 || c.writes[0].key != "product:B1" || c.writes[0].etag != "" || !c.writes[0].firstWrite {
		t.Errorf("writes = %+v; want one insert-if-absent of product:B1", c.writes)
	}
	if err := s.AddToCatalog(ctx, "B1"); err != nil {
		t.Fatal(err)
	}
	if w := c.writes[1]; w.key != "catalog" || w.etag != "4" || w.value != `["A1","B1","C1"]` || !w.firstWrite {
		t.Errorf("catalog write = %+v; want the sorted list guarded by ETag 4", w)
	}
	if err := s.AddToCatalog(ctx, "A1"); err != nil || len(c.writes) != 2 {
		t.Errorf("AddToCatalog(listed) = %v with %d writes; want no write", err, len(c.writes))
	}
	c.writeErr = status.Error(codes.Internal, "failed to set key product:B1")
	if err := s.InsertProduct(ctx, inventory.Product{SKU: "B1"}); !errors.Is(err, inventory.ErrExists) {
		t.Errorf("InsertProduct(existing) = %v; want ErrExists", err)
	}
	if err := s.AddToCatalog(ctx, "D1"); !errors.Is(err, inventory.ErrConflict) {
		t.Errorf("AddToCatalog() losing a race = %v; want ErrConflict", err)
	}

	c.values["product:A1"] = `{"sku":"A1","available":1,"received":1}`
	page, err := s.List(ctx, "", 10)
	if err != nil || len(page.Products) != 1 || page.Products[0].SKU != "A1" {
		t.Errorf("List() with C1 listed but missing = %+v, %v; want A1 only", page, err)
	}
}

func TestConflictsBecomeErrConflict(t *testing.T) {
	tests := []error{
		status.Error(codes.Aborted, "possible etag mismatch"),
		status.Error(codes.Internal, "failed to set key product:A1"),
	}
	for _, storeErr := range tests {
		c := &fakeClient{writeErr: storeErr}
		s := New(c, "inventory-state")
		err := s.SaveProduct(context.Background(), inventory.Product{SKU: "A1", Version: "3"})
		if !errors.Is(err, inventory.ErrConflict) {
			t.Errorf("SaveProduct() with the store answering %v = %v; want ErrConflict", storeErr, err)
		}
		if err := s.SaveReservation(context.Background(), inventory.Reservation{OrderID: "o1"}); !errors.Is(err, inventory.ErrConflict) {
			t.Errorf("SaveReservation() with the store answering %v = %v; want ErrConflict", storeErr, err)
		}
	}
	c := &fakeClient{writeErr: status.Error(codes.Unavailable, "connection refused")}
	if err := New(c, "s").SaveProduct(context.Background(), inventory.Product{SKU: "A1", Version: "3"}); errors.Is(err, inventory.ErrConflict) || err == nil {
		t.Errorf("SaveProduct() with the sidecar down = %v; want a non-conflict error", err)
	}
}

func TestReadAndSaveWithVersions(t *testing.T) {
	c := &fakeClient{
		values: map[string]string{"product:A1": `{"sku":"A1","available":3,"received":3,"log":["o0:reserve"]}`, "reservation:o1": `{"order_id":"o1","status":"reserved"}`},
		etags:  map[string]string{"product:A1": "11", "reservation:o1": "12"},
	}
	s := New(c, "inventory-state")
	ctx := context.Background()
	products, err := s.Products(ctx, []string{"A1", "ZZ"})
	if err != nil {
		t.Fatal(err)
	}
	if len(products) != 1 || products["A1"].Version != "11" || products["A1"].Available != 3 || len(products["A1"].Log) != 1 {
		t.Errorf("Products() = %+v; want A1 with version 11 and its log", products)
	}
	p, err := s.Product(ctx, "A1")
	if err != nil || p.Version != "11" {
		t.Errorf("Product() = %+v, %v; want version 11", p, err)
	}
	if _, err := s.Product(ctx, "ZZ"); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("Product(missing) = %v; want ErrNotFound", err)
	}
	r, err := s.Reservation(ctx, "o1")
	if err != nil || r.Status != inventory.StatusReserved || r.Version != "12" {
		t.Fatalf("Reservation() = %+v, %v; want o1 reserved, version 12", r, err)
	}
	if _, err := s.Reservation(ctx, "o2"); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("Reservation(missing) = %v; want ErrNotFound", err)
	}
	if err := s.SaveProduct(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveReservation(ctx, r); err != nil {
		t.Fatal(err)
	}
	if w := c.writes; len(w) != 2 || w[0].etag != "11" || w[1].etag != "12" || w[1].key != "reservation:o1" || !w[0].firstWrite || !w[1].firstWrite {
		t.Errorf("writes = %+v; want each guarded by the ETag read", w)
	}
	var stored map[string]any
	if err := json.Unmarshal([]byte(c.writes[0].value), &stored); err != nil || stored["Version"] != nil || stored["version"] != nil {
		t.Errorf("stored product %s; want no version field in the value", c.writes[0].value)
	}
	if err := s.SaveProduct(ctx, inventory.Product{SKU: "A1"}); err == nil {
		t.Error("SaveProduct() of a product without a version succeeded; want an error (products are only inserted by InsertProduct)")
	}
	broken := p
	broken.Reserved = 1 // received 3 != available 3 + reserved 1
	if err := s.SaveProduct(ctx, broken); !errors.Is(err, inventory.ErrInvariant) {
		t.Errorf("SaveProduct() of a product whose stock does not add up = %v; want ErrInvariant", err)
	}
	if err := s.SaveReservation(ctx, inventory.Tombstone("o2")); err != nil {
		t.Fatal(err)
	}
	if w := c.writes[len(c.writes)-1]; w.etag != "" || !w.firstWrite || w.key != "reservation:o2" {
		t.Errorf("new reservation write = %+v; want insert-if-absent", w)
	}
}
