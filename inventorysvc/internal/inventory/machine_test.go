package inventory_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"shop/inventorysvc/internal/inventory"
	"shop/inventorysvc/internal/inventory/inventorytest"
	"shop/platform/contract"
)

// TestEventOrdersKeepTheInvariant plays orders of an order's events
// through the service and checks the stock after each, and that the end
// depends only on which events arrived, not on their order.
func TestEventOrdersKeepTheInvariant(t *testing.T) {
	const created, confirmed, cancelled, timedOut = "created", "confirmed", "cancelled", "timed out"
	tests := []struct {
		events                    []string
		status                    inventory.Status
		available, reserved, sold int64
	}{
		{[]string{created}, inventory.StatusReserved, 3, 2, 0},
		{[]string{created, confirmed}, inventory.StatusCommitted, 3, 0, 2},
		{[]string{created, cancelled}, inventory.StatusReleased, 5, 0, 0},
		{[]string{created, confirmed, cancelled}, inventory.StatusReleased, 5, 0, 0},
		{[]string{cancelled, created}, inventory.StatusReleased, 5, 0, 0},
		{[]string{created, cancelled, confirmed}, inventory.StatusReleased, 5, 0, 0},
		{[]string{created, created, confirmed, confirmed, cancelled, cancelled}, inventory.StatusReleased, 5, 0, 0},
		{[]string{cancelled, created, confirmed}, inventory.StatusReleased, 5, 0, 0},
		{[]string{created, confirmed, created}, inventory.StatusCommitted, 3, 0, 2},
		// A saga timeout cannot cancel a confirmed order, only a reserved one.
		{[]string{created, confirmed, timedOut}, inventory.StatusCommitted, 3, 0, 2},
		{[]string{created, timedOut, confirmed}, inventory.StatusReleased, 5, 0, 0},
	}
	for _, tt := range tests {
		ctx := context.Background()
		store := inventorytest.NewStore(product("A1", 5))
		svc := newService(store, &inventorytest.Publisher{})
		for _, ev := range tt.events {
			var err error
			switch ev {
			case created:
				err = svc.OrderCreated(ctx, "o1", []inventory.Line{{SKU: "A1", Quantity: 2}})
			case confirmed:
				err = svc.OrderConfirmed(ctx, "o1")
			case cancelled:
				err = svc.OrderCancelled(ctx, "o1", "cancelled_by_customer")
			case timedOut:
				err = svc.OrderCancelled(ctx, "o1", contract.ReasonSagaTimeout)
			}
			if err != nil && !errors.Is(err, inventory.ErrNotApplicable) {
				t.Fatalf("%v: %s: %v", tt.events, ev, err)
			}
			p, _ := store.Stored("A1")
			if err := p.CheckInvariant(); err != nil {
				t.Fatalf("%v: %s: %v", tt.events, ev, err)
			}
		}
		if r, _ := store.StoredReservation("o1"); r.Status != tt.status {
			t.Errorf("%v: reservation %s; want %s", tt.events, r.Status, tt.status)
		}
		checkStock(t, store, "A1", tt.available, tt.reserved, tt.sold)
	}
}

func TestOrderCreatedDecides(t *testing.T) {
	tests := []struct {
		name   string
		lines  []inventory.Line
		want   string
		stocks map[string][3]int64 // after: available, reserved, sold
	}{
		{"every line reserved", []inventory.Line{{SKU: "A1", Quantity: 2}, {SKU: "B1", Quantity: 1}}, "o1:reserved",
			map[string][3]int64{"A1": {3, 2, 0}, "B1": {0, 1, 0}}},
		{"one line short: nothing reserved", []inventory.Line{{SKU: "A1", Quantity: 2}, {SKU: "B1", Quantity: 2}}, "o1:rejected B1=out_of_stock",
			map[string][3]int64{"A1": {5, 0, 0}, "B1": {1, 0, 0}}},
		{"unknown product", []inventory.Line{{SKU: "A1", Quantity: 1}, {SKU: "ZZ", Quantity: 1}}, "o1:rejected ZZ=unknown_product",
			map[string][3]int64{"A1": {5, 0, 0}}},
		{"every failing line named", []inventory.Line{{SKU: "A1", Quantity: 9}, {SKU: "B1", Quantity: 1}, {SKU: "ZZ", Quantity: 1}},
			"o1:rejected A1=out_of_stock ZZ=unknown_product", map[string][3]int64{"A1": {5, 0, 0}, "B1": {1, 0, 0}}},
		{"exactly what is available", []inventory.Line{{SKU: "A1", Quantity: 5}}, "o1:reserved", map[string][3]int64{"A1": {0, 5, 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := inventorytest.NewStore(product("A1", 5), product("B1", 1))
			pub := &inventorytest.Publisher{}
			svc := newService(store, pub)
			if err := svc.OrderCreated(context.Background(), "o1", tt.lines); err != nil {
				t.Fatal(err)
			}
			if got := outcomes(pub); len(got) != 1 || got[0] != tt.want {
				t.Errorf("published %v; want [%s]", got, tt.want)
			}
			for sku, s := range tt.stocks {
				checkStock(t, store, sku, s[0], s[1], s[2])
			}
		})
	}
}

// TestConcurrentDeliveriesConverge interleaves two deliveries of one
// order.created: at every write of the first, the second runs to its end
// (and a restock makes the short line available in between, so that the
// second would decide otherwise). Both must answer the same, and the stock
// must hold exactly what the answer says.
func TestConcurrentDeliveriesConverge(t *testing.T) {
	for _, restock := range []bool{false, true} {
		for at := 1; ; at++ {
			ctx := context.Background()
			store := inventorytest.NewStore(product("A1", 5), product("B1", 1), product("C1", 5))
			pub := &inventorytest.Publisher{}
			svc := newService(store, pub)
			// The second delivery runs in another replica: within one,
			// deliveries write a product one group at a time, so one
			// cannot come between another's read and write.
			other := newService(store, pub)
			lines := []inventory.Line{{SKU: "A1", Quantity: 2}, {SKU: "B1", Quantity: 2}, {SKU: "C1", Quantity: 1}}
			writes, interleaved := 0, false
			store.Fake.BeforeWrite = func(string) {
				writes++
				if writes != at || interleaved {
					return
				}
				interleaved = true
				if restock {
					if _, err := other.Restock(ctx, "B1", 1); err != nil {
						t.Error(err)
					}
				}
				if err := other.OrderCreated(ctx, "o1", lines); err != nil {
					t.Error(err)
				}
			}
			if err := svc.OrderCreated(ctx, "o1", lines); err != nil {
				t.Fatalf("restock %v, second delivery at write %d: %v", restock, at, err)
			}
			if !interleaved {
				break // the first delivery made fewer writes: every point was tried
			}
			got := outcomes(pub)
			if len(got) != 2 || got[0] != got[1] {
				t.Fatalf("restock %v, at write %d: published %v; want one answer twice", restock, at, got)
			}
			r, _ := store.StoredReservation("o1")
			received := map[string]int64{"A1": 5, "B1": 1, "C1": 5}
			if restock {
				received["B1"]++
			}
			for _, l := range lines {
				held := int64(0)
				if r.Status == inventory.StatusReserved {
					held = l.Quantity
				}
				checkStock(t, store, l.SKU, received[l.SKU]-held, held, 0)
			}
			if st, ot := svc.Stats(), other.Stats(); st.Reserved+st.Rejected+ot.Reserved+ot.Rejected != 1 {
				t.Errorf("restock %v, at write %d: Stats() = %+v and %+v in the other replica; want one decision", restock, at, st, ot)
			}
		}
	}
}

// TestCrashMidwayConverges fails each write of an order's events in turn,
// as a crash would (step applied to one product, not yet to the next),
// and checks that the redelivery of the event repairs it.
func TestCrashMidwayConverges(t *testing.T) {
	type event struct {
		name string
		run  func(svc *inventory.Service) error
	}
	lines := []inventory.Line{{SKU: "A1", Quantity: 2}, {SKU: "B1", Quantity: 1}}
	ctx := context.Background()
	created := event{"created", func(svc *inventory.Service) error { return svc.OrderCreated(ctx, "o1", lines) }}
	short := event{"created short", func(svc *inventory.Service) error {
		return svc.OrderCreated(ctx, "o1", []inventory.Line{{SKU: "A1", Quantity: 2}, {SKU: "B1", Quantity: 9}})
	}}
	confirmed := event{"confirmed", func(svc *inventory.Service) error { return svc.OrderConfirmed(ctx, "o1") }}
	cancelled := event{"cancelled", func(svc *inventory.Service) error { return svc.OrderCancelled(ctx, "o1", "cancelled_by_customer") }}
	tests := []struct {
		events []event
		want   map[string][3]int64
	}{
		{[]event{created}, map[string][3]int64{"A1": {3, 2, 0}, "B1": {4, 1, 0}}},
		{[]event{short}, map[string][3]int64{"A1": {5, 0, 0}, "B1": {5, 0, 0}}},
		{[]event{created, confirmed}, map[string][3]int64{"A1": {3, 0, 2}, "B1": {4, 0, 1}}},
		{[]event{created, cancelled}, map[string][3]int64{"A1": {5, 0, 0}, "B1": {5, 0, 0}}},
		{[]event{created, confirmed, cancelled}, map[string][3]int64{"A1": {5, 0, 0}, "B1": {5, 0, 0}}},
	}
	crash := errors.New("crash")
	for _, tt := range tests {
		last := tt.events[len(tt.events)-1]
		for at := 1; ; at++ {
			store := inventorytest.NewStore(product("A1", 5), product("B1", 5))
			pub := &inventorytest.Publisher{}
			svc := newService(store, pub)
			for _, ev := range tt.events[:len(tt.events)-1] {
				if err := ev.run(svc); err != nil {
					t.Fatal(err)
				}
			}
			writes := 0
			store.Fake.FailWrite = func(string) error {
				if writes++; writes == at {
					return crash
				}
				return nil
			}
			err := last.run(svc)
			store.Fake.FailWrite = nil
			if err == nil {
				break // no write left to fail
			}
			if !errors.Is(err, crash) {
				t.Fatalf("%s, crash at write %d: %v", last.name, at, err)
			}
			if err := last.run(svc); err != nil { // the redelivery
				t.Fatalf("%s, redelivered after a crash at write %d: %v", last.name, at, err)
			}
			for sku, s := range tt.want {
				checkStock(t, store, sku, s[0], s[1], s[2])
			}
			if r, _ := store.StoredReservation("o1"); r.Outcome == inventory.OutcomeNone {
				t.Errorf("%s, crash at write %d: reservation %+v has no outcome", last.name, at, r)
			}
		}
	}
}

// TestRejectedSweepsLateReserve: a delivery that reserved a line after
// another one rejected the order, and crashed before giving it back, is
// repaired by its redelivery.
func TestRejectedSweepsLateReserve(t *testing.T) {
	ctx := context.Background()
	store := inventorytest.NewStore(product("A1", 5), product("B1", 1))
	pub := &inventorytest.Publisher{}
	svc := newService(store, pub)
	lines := []inventory.Line{{SKU: "A1", Quantity: 2}, {SKU: "B1", Quantity: 2}}
	if err := svc.OrderCreated(ctx, "o1", lines); err != nil {
		t.Fatal(err)
	}
	// A stale delivery's reserve of B1, made after the rejection (it read
	// the reservation while it was reserving, and B1 after a restock), and
	// never recorded: the delivery crashed.
	_, err := store.UpdateProduct(ctx, "B1", func(p *inventory.Product) error {
		if err := p.Restock(1); err != nil {
			return err
		}
		p.Available, p.Reserved = p.Available-2, p.Reserved+2
		p.Marks = map[string]inventory.Mark{"o1": {Step: inventory.StepReserve, At: time.Now()}}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.OrderCreated(ctx, "o1", lines); err != nil {
		t.Fatal(err)
	}
	checkStock(t, store, "A1", 5, 0, 0)
	checkStock(t, store, "B1", 2, 0, 0)
	if p, _ := store.Stored("B1"); len(p.Marks) != 0 {
		t.Errorf("B1 = %+v; want the late reserve given back and its marks gone", p)
	}
	if got := fmt.Sprint(outcomes(pub)); got != "[o1:rejected B1=out_of_stock o1:rejected B1=out_of_stock]" {
		t.Errorf("published %s; want the rejection twice", got)
	}
}

func TestCreateProductListsIt(t *testing.T) {
	ctx := context.Background()
	store := inventorytest.NewStore()
	svc := newService(store, &inventorytest.Publisher{})
	fail := true
	store.Fake.FailWrite = func(key string) error {
		if key == "catalog" && fail {
			return errors.New("sidecar unavailable")
		}
		return nil
	}
	n := inventory.NewProduct{SKU: "B1", Name: "Ball", PriceCents: 250, Stock: 3}
	if _, err := svc.CreateProduct(ctx, n); err == nil {
		t.Fatal("CreateProduct() with the catalog unwritable succeeded")
	}
	fail = false
	if _, err := svc.CreateProduct(ctx, n); !errors.Is(err, inventory.ErrExists) {
		t.Fatalf("CreateProduct(again) = %v; want ErrExists", err)
	}
	if !store.Listed("B1") {
		t.Error("a product that exists is not listed after a create of it answered")
	}
}
