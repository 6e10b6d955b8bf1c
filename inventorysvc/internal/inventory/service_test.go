package inventory_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"shop/inventorysvc/internal/inventory"
	"shop/inventorysvc/internal/inventory/inventorytest"
	"shop/platform/daprstate"
	"shop/platform/validation"
)

func product(sku string, available int64) inventory.Product {
	return inventory.Product{SKU: sku, Name: "Thing " + sku, PriceCents: 100, Available: available, Received: available}
}

func newService(store *inventorytest.Store, pub *inventorytest.Publisher, opts ...inventory.Option) *inventory.Service {
	return inventory.NewService(store, pub, opts...)
}

func checkStock(t *testing.T, store *inventorytest.Store, sku string, available, reserved, sold int64) {
	t.Helper()
	p, ok := store.Stored(sku)
	if !ok {
		t.Fatalf("product %s is gone", sku)
	}
	if err := p.CheckInvariant(); err != nil {
		t.Error(err)
	}
	if p.Available != available || p.Reserved != reserved || p.Sold != sold {
		t.Errorf("%s: available %d reserved %d sold %d; want %d %d %d", sku, p.Available, p.Reserved, p.Sold, available, reserved, sold)
	}
}

func outcomes(pub *inventorytest.Publisher) []string {
	var out []string
	for _, r := range pub.Published() {
		s := r.OrderID + ":" + string(r.Outcome)
		for _, rej := range r.Rejections {
			s += " " + rej.SKU + "=" + string(rej.Reason)
		}
		out = append(out, s)
	}
	return out
}

func TestOrderLifecycle(t *testing.T) {
	ctx := context.Background()
	store := inventorytest.NewStore(product("A1", 5), product("B1", 1))
	pub := &inventorytest.Publisher{}
	svc := newService(store, pub)

	if err := svc.OrderCreated(ctx, "o1", []inventory.Line{{SKU: "A1", Quantity: 2}, {SKU: "B1", Quantity: 1}}); err != nil {
		t.Fatal(err)
	}
	checkStock(t, store, "A1", 3, 2, 0)
	checkStock(t, store, "B1", 0, 1, 0)
	// Nothing is left of B1: the next order is rejected and holds nothing.
	if err := svc.OrderCreated(ctx, "o2", []inventory.Line{{SKU: "A1", Quantity: 1}, {SKU: "B1", Quantity: 1}, {SKU: "NOPE", Quantity: 1}}); err != nil {
		t.Fatal(err)
	}
	checkStock(t, store, "A1", 3, 2, 0)
	if err := svc.OrderConfirmed(ctx, "o1"); err != nil {
		t.Fatal(err)
	}
	checkStock(t, store, "A1", 3, 0, 2)
	checkStock(t, store, "B1", 0, 0, 1)
	// A confirmed order that is cancelled is refunded: its units come back.
	if err := svc.OrderCancelled(ctx, "o1", "customer"); err != nil {
		t.Fatal(err)
	}
	checkStock(t, store, "A1", 5, 0, 0)
	checkStock(t, store, "B1", 1, 0, 0)

	want := []string{"o1:reserved", "o2:rejected B1=out_of_stock NOPE=unknown_product"}
	if got := outcomes(pub); !reflect.DeepEqual(got, want) {
		t.Errorf("published %v; want %v", got, want)
	}
	st := svc.Stats()
	if st.Reserved != 1 || st.Rejected != 1 || st.Committed != 1 || st.Released != 1 {
		t.Errorf("Stats() = %+v; want one of each", st)
	}
}

func TestRedeliveryChangesNothing(t *testing.T) {
	ctx := context.Background()
	store := inventorytest.NewStore(product("A1", 5))
	pub := &inventorytest.Publisher{}
	svc := newService(store, pub)
	lines := []inventory.Line{{SKU: "A1", Quantity: 2}}
	for range 3 {
		if err := svc.OrderCreated(ctx, "o1", lines); err != nil {
			t.Fatal(err)
		}
	}
	checkStock(t, store, "A1", 3, 2, 0)
	for range 2 {
		if err := svc.OrderConfirmed(ctx, "o1"); err != nil {
			t.Fatal(err)
		}
	}
	checkStock(t, store, "A1", 3, 0, 2)
	// A late redelivery of order.created answers what it answered first.
	if err := svc.OrderCreated(ctx, "o1", lines); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := svc.OrderCancelled(ctx, "o1", "customer"); err != nil {
			t.Fatal(err)
		}
	}
	checkStock(t, store, "A1", 5, 0, 0)
	want := []string{"o1:reserved", "o1:reserved", "o1:reserved", "o1:reserved"}
	if got := outcomes(pub); !reflect.DeepEqual(got, want) {
		t.Errorf("published %v; want %v", got, want)
	}
	if st := svc.Stats(); st.Reserved != 1 || st.Committed != 1 || st.Released != 1 || st.Published != 4 {
		t.Errorf("Stats() = %+v; redeliveries counted", st)
	}
}

func TestCancelledBeforeCreated(t *testing.T) {
	ctx := context.Background()
	store := inventorytest.NewStore(product("A1", 5))
	pub := &inventorytest.Publisher{}
	svc := newService(store, pub)
	if err := svc.OrderCancelled(ctx, "o1", "customer"); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := svc.OrderCreated(ctx, "o1", []inventory.Line{{SKU: "A1", Quantity: 2}}); err != nil {
			t.Fatal(err)
		}
	}
	checkStock(t, store, "A1", 5, 0, 0)
	want := []string{"o1:rejected A1=order_cancelled", "o1:rejected A1=order_cancelled"}
	if got := outcomes(pub); !reflect.DeepEqual(got, want) {
		t.Errorf("published %v; want %v", got, want)
	}
	// A confirmation can no longer sell anything.
	if err := svc.OrderConfirmed(ctx, "o1"); err != nil {
		t.Fatal(err)
	}
	checkStock(t, store, "A1", 5, 0, 0)
}

func TestEventsThatCannotSucceed(t *testing.T) {
	ctx := context.Background()
	store := inventorytest.NewStore(product("A1", 5))
	svc := newService(store, &inventorytest.Publisher{})
	tests := []struct {
		name string
		call func() error
		want error
	}{
		{"confirm unknown order", func() error { return svc.OrderConfirmed(ctx, "never") }, inventory.ErrNotApplicable},
		{"no lines", func() error { return svc.OrderCreated(ctx, "o1", nil) }, inventory.ErrMalformed},
		{"no order id", func() error { return svc.OrderCreated(ctx, "", []inventory.Line{{SKU: "A1", Quantity: 1}}) }, inventory.ErrMalformed},
		{"bad order id", func() error { return svc.OrderCancelled(ctx, "a b", "customer") }, inventory.ErrMalformed},
		{"zero quantity", func() error { return svc.OrderCreated(ctx, "o1", []inventory.Line{{SKU: "A1", Quantity: 0}}) }, inventory.ErrMalformed},
	}
	for _, tt := range tests {
		if err := tt.call(); !errors.Is(err, tt.want) {
			t.Errorf("%s: error = %v; want %v", tt.name, err, tt.want)
		}
	}
	checkStock(t, store, "A1", 5, 0, 0)
}

func TestPublishFailureIsRetriedByRedelivery(t *testing.T) {
	ctx := context.Background()
	store := inventorytest.NewStore(product("A1", 5))
	pub := &inventorytest.Publisher{Err: errors.New("broker down")}
	svc := newService(store, pub)
	lines := []inventory.Line{{SKU: "A1", Quantity: 2}}
	err := svc.OrderCreated(ctx, "o1", lines)
	if err == nil || errors.Is(err, inventory.ErrMalformed) || errors.Is(err, inventory.ErrNotApplicable) {
		t.Fatalf("OrderCreated() with the broker down = %v; want a transient error", err)
	}
	checkStock(t, store, "A1", 3, 2, 0) // stored, not yet announced
	pub.Err = nil
	if err := svc.OrderCreated(ctx, "o1", lines); err != nil {
		t.Fatal(err)
	}
	checkStock(t, store, "A1", 3, 2, 0)
	if got := outcomes(pub); !reflect.DeepEqual(got, []string{"o1:reserved"}) {
		t.Errorf("published %v; want the outcome once the broker is back", got)
	}
}

func TestStoreFailureIsTransient(t *testing.T) {
	store := inventorytest.NewStore(product("A1", 5))
	store.Fake.FailWrite = func(string) error { return errors.New("sidecar unavailable") }
	svc := newService(store, &inventorytest.Publisher{})
	err := svc.OrderCreated(context.Background(), "o1", []inventory.Line{{SKU: "A1", Quantity: 1}})
	if err == nil || errors.Is(err, inventory.ErrMalformed) || errors.Is(err, inventory.ErrNotApplicable) || errors.Is(err, inventory.ErrInvariant) {
		t.Errorf("OrderCreated() with the store down = %v; want a transient error", err)
	}
}

func TestConflictsAreRetried(t *testing.T) {
	ctx := context.Background()
	store := inventorytest.NewStore(product("A1", 5))
	pub := &inventorytest.Publisher{}
	svc := newService(store, pub)
	races := 3
	store.Fake.BeforeWrite = func(key string) {
		if key == "product:A1" && races > 0 {
			races--
			store.Bump("A1") // a concurrent writer changes A1 between read and write
		}
	}
	if err := svc.OrderCreated(ctx, "o1", []inventory.Line{{SKU: "A1", Quantity: 2}}); err != nil {
		t.Fatal(err)
	}
	checkStock(t, store, "A1", 3, 2, 0)
	if st := svc.Stats(); st.ConflictsRetried != 3 || st.ConflictsExhausted != 0 {
		t.Errorf("Stats() = %+v; want 3 conflicts retried", st)
	}
}

func TestConflictsAreBounded(t *testing.T) {
	ctx := context.Background()
	store := inventorytest.NewStoreWith([]daprstate.Option{daprstate.WithAttempts(7)}, product("A1", 5))
	svc := newService(store, &inventorytest.Publisher{})
	tries := 0
	store.Fake.BeforeWrite = func(key string) {
		if key == "product:A1" {
			tries++
			store.Bump("A1")
		}
	}
	err := svc.OrderCreated(ctx, "o1", []inventory.Line{{SKU: "A1", Quantity: 2}})
	if !errors.Is(err, inventory.ErrConflict) {
		t.Fatalf("OrderCreated() always losing = %v; want ErrConflict", err)
	}
	if tries != 7 {
		t.Errorf("tried %d times; want 7", tries)
	}
	if st := svc.Stats(); st.ConflictsRetried != 7 || st.ConflictsExhausted != 1 {
		t.Errorf("Stats() = %+v; want 7 lost races, 1 operation exhausted", st)
	}
	checkStock(t, store, "A1", 5, 0, 0)
}

func TestRetryStopsWithContext(t *testing.T) {
	store := inventorytest.NewStore(product("A1", 5))
	store.Fake.BeforeWrite = func(key string) {
		if key == "product:A1" {
			store.Bump("A1")
		}
	}
	svc := inventory.NewService(store, &inventorytest.Publisher{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err := svc.OrderCreated(ctx, "o1", []inventory.Line{{SKU: "A1", Quantity: 2}})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("OrderCreated() past its deadline = %v; want context.DeadlineExceeded", err)
	}
}

// TestConcurrentWritersNeverOversell runs many order events and restocks
// at once against one fake store, as replicas of the service would, and
// checks that no unit is lost, oversold or counted twice.
func TestConcurrentWritersNeverOversell(t *testing.T) {
	ctx := context.Background()
	skus := []string{"A1", "B1", "C1"}
	store := inventorytest.NewStore(product("A1", 20), product("B1", 10), product("C1", 5))
	pub := &inventorytest.Publisher{}
	svc := inventory.NewService(store, pub)

	const orders = 120
	var wg sync.WaitGroup
	errs := make(chan error, orders*3)
	for i := range orders {
		id := fmt.Sprintf("o%d", i)
		lines := []inventory.Line{{SKU: skus[i%3], Quantity: 1}, {SKU: skus[(i+1)%3], Quantity: int64(1 + i%2)}}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- svc.OrderCreated(ctx, id, lines)
			switch i % 4 {
			case 1:
				errs <- svc.OrderConfirmed(ctx, id)
			case 2:
				errs <- svc.OrderCancelled(ctx, id, "customer")
			}
		}()
	}
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := svc.Restock(ctx, skus[i%3], 2)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil && !errors.Is(err, inventory.ErrNotApplicable) {
			t.Fatal(err)
		}
	}

	held := map[string]int64{}
	sold := map[string]int64{}
	for i := range orders {
		r, ok := store.StoredReservation(fmt.Sprintf("o%d", i))
		if !ok {
			t.Fatalf("order o%d has no reservation", i)
		}
		for _, l := range r.Lines {
			switch r.Status {
			case inventory.StatusReserved:
				held[l.SKU] += l.Quantity
			case inventory.StatusCommitted:
				sold[l.SKU] += l.Quantity
			}
		}
	}
	received := map[string]int64{"A1": 20, "B1": 10, "C1": 5}
	for i := range 10 {
		received[skus[i%3]] += 2
	}
	for _, sku := range skus {
		p, _ := store.Stored(sku)
		if err := p.CheckInvariant(); err != nil {
			t.Error(err)
		}
		if p.Received != received[sku] || p.Reserved != held[sku] || p.Sold != sold[sku] {
			t.Errorf("%s = %+v; want received %d, reserved %d, sold %d from the reservations", sku, p, received[sku], held[sku], sold[sku])
		}
	}
	if st := svc.Stats(); st.Reserved+st.Rejected != orders {
		t.Errorf("Stats() = %+v; want %d decisions", st, orders)
	}
	t.Logf("stats: %+v", svc.Stats())
}

func TestCreateProduct(t *testing.T) {
	ctx := context.Background()
	store := inventorytest.NewStore(product("A1", 5))
	svc := newService(store, &inventorytest.Publisher{})
	p, err := svc.CreateProduct(ctx, inventory.NewProduct{SKU: "B1", Name: " Ball ", PriceCents: 250, Stock: 3})
	if err != nil || p.Name != "Ball" || p.Available != 3 || p.Received != 3 {
		t.Fatalf("CreateProduct() = %+v, %v; want the new product", p, err)
	}
	checkStock(t, store, "B1", 3, 0, 0)
	if _, err := svc.CreateProduct(ctx, inventory.NewProduct{SKU: "B1", Name: "Again", PriceCents: 1, Stock: 1}); !errors.Is(err, inventory.ErrExists) {
		t.Errorf("CreateProduct(existing) = %v; want ErrExists", err)
	}
	var invalid validation.Errors
	if _, err := svc.CreateProduct(ctx, inventory.NewProduct{SKU: "c", Name: "x", PriceCents: 1}); !errors.As(err, &invalid) {
		t.Errorf("CreateProduct(invalid) = %v; want a ValidationError", err)
	}
}

func TestRestockAndLookup(t *testing.T) {
	ctx := context.Background()
	store := inventorytest.NewStore(product("A1", 5), product("B1", 0))
	svc := newService(store, &inventorytest.Publisher{})
	p, err := svc.Restock(ctx, "B1", 4)
	if err != nil || p.Available != 4 || p.Received != 4 {
		t.Fatalf("Restock() = %+v, %v; want 4 available", p, err)
	}
	if _, err := svc.Restock(ctx, "NOPE", 4); !errors.Is(err, inventory.ErrNotFound) {
		t.Errorf("Restock(unknown) = %v; want ErrNotFound", err)
	}
	found, missing, err := svc.Lookup(ctx, []string{"B1", "ZZ", "A1", "B1"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range found {
		got = append(got, fmt.Sprintf("%s:%d", p.SKU, p.Available))
	}
	if !reflect.DeepEqual(got, []string{"B1:4", "A1:5"}) || !reflect.DeepEqual(missing, []string{"ZZ"}) {
		t.Errorf("Lookup() = %v, missing %v; want [B1:4 A1:5], missing [ZZ]", got, missing)
	}
}
