package inventory_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	dapr "github.com/dapr/go-sdk/client"

	"shop/inventorysvc/internal/inventory"
	"shop/inventorysvc/internal/inventory/inventorytest"
	"shop/inventorysvc/internal/inventorystore"
	"shop/platform/daprstate/daprstatetest"
)

// hooked is the fake state API with a hook after every read, so that a
// test can stall a delivery right after it read a key and let another one
// run, and the largest value written per key.
type hooked struct {
	*daprstatetest.Fake
	mu       sync.Mutex
	afterGet func(key string)
	largest  map[string]int
}

func (h *hooked) GetState(ctx context.Context, store, key string, meta map[string]string) (*dapr.StateItem, error) {
	it, err := h.Fake.GetState(ctx, store, key, meta)
	h.mu.Lock()
	hook := h.afterGet
	h.mu.Unlock()
	if hook != nil {
		hook(key)
	}
	return it, err
}

func (h *hooked) SaveStateWithETag(ctx context.Context, store, key string, data []byte, etag string, meta map[string]string, so ...dapr.StateOption) error {
	err := h.Fake.SaveStateWithETag(ctx, store, key, data, etag, meta, so...)
	h.mu.Lock()
	if err == nil && len(data) > h.largest[key] {
		h.largest[key] = len(data)
	}
	h.mu.Unlock()
	return err
}

func (h *hooked) setAfterGet(f func(key string)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.afterGet = f
}

// newHooked returns a store on a hooked fake holding products.
func newHooked(t *testing.T, products ...inventory.Product) (*inventorytest.Store, *hooked) {
	t.Helper()
	h := &hooked{Fake: daprstatetest.New(), largest: map[string]int{}}
	s := &inventorytest.Store{Store: inventorystore.New(h, "inventory-state"), Fake: h.Fake}
	for _, p := range products {
		if err := s.InsertProduct(context.Background(), p); err != nil {
			t.Fatal(err)
		}
	}
	return s, h
}

// A delivery that read the product and then the reservation, and stalls
// before its write while another delivery applies, records and cleans up
// the step, must not apply it a second time when it resumes; nor must one
// that stalls between its two reads.
func TestStaleDeliveryAppliesNothingTwice(t *testing.T) {
	for _, stallAfter := range []string{"product:A1", "reservation:o1"} {
		t.Run("stalled after reading "+stallAfter, func(t *testing.T) {
			ctx := context.Background()
			store, h := newHooked(t, product("A1", 5))
			pub := &inventorytest.Publisher{}
			svc := newService(store, pub)
			other := newService(store, pub) // another replica: see TestConcurrentDeliveriesConverge
			lines := []inventory.Line{{SKU: "A1", Quantity: 2}}
			productRead, stalled := false, false
			h.setAfterGet(func(key string) {
				if key == "product:A1" {
					productRead = true
				}
				// The first read of stallAfter once the product was read:
				// the delivery is deciding its reserve of A1.
				if stalled || !productRead || key != stallAfter {
					return
				}
				stalled = true
				if err := other.OrderCreated(ctx, "o1", lines); err != nil {
					t.Errorf("second delivery: %v", err)
				}
				if p, _ := store.Stored("A1"); p.Reserved != 2 || len(p.Marks) != 0 {
					t.Errorf("after the second delivery A1 = %+v; want 2 reserved, no mark", p)
				}
			})
			if err := svc.OrderCreated(ctx, "o1", lines); err != nil {
				t.Fatal(err)
			}
			if !stalled {
				t.Fatal("the first delivery never read the keys the test stalls it at")
			}
			checkStock(t, store, "A1", 3, 2, 0)
			if got := outcomes(pub); len(got) != 2 || got[0] != "o1:reserved" || got[1] != got[0] {
				t.Errorf("published %v; want o1:reserved twice", got)
			}
			if st, ot := svc.Stats(), other.Stats(); st.Reserved+ot.Reserved != 1 {
				t.Errorf("Stats() = %+v and %+v in the other replica; want one reservation", st, ot)
			}
		})
	}
}

// failNth fails the nth write of key (1-based) from now on, as a crash
// right before it would.
func failNth(store *inventorytest.Store, key string, n int) *error {
	crash := errors.New("crash")
	seen := 0
	store.Fake.FailWrite = func(k string) error {
		if k == key {
			if seen++; seen == n {
				return crash
			}
		}
		return nil
	}
	return &crash
}

// A crash after a step's stock change and before the reservation records
// it leaves the product's mark; the redelivery records the step instead of
// applying it again.
func TestCrashAfterApplyBeforeRecord(t *testing.T) {
	ctx := context.Background()
	store := inventorytest.NewStore(product("A1", 5))
	pub := &inventorytest.Publisher{}
	svc := newService(store, pub)
	lines := []inventory.Line{{SKU: "A1", Quantity: 2}}
	crash := failNth(store, "reservation:o1", 2) // 1: the insert, 2: the record of A1's reserve
	if err := svc.OrderCreated(ctx, "o1", lines); !errors.Is(err, *crash) {
		t.Fatalf("OrderCreated() = %v; want the crash", err)
	}
	p, _ := store.Stored("A1")
	if p.Reserved != 2 || p.Marks["o1"].Step != inventory.StepReserve {
		t.Fatalf("after the crash A1 = %+v; want 2 reserved and o1's reserve marked", p)
	}
	store.Fake.FailWrite = nil
	if err := svc.OrderCreated(ctx, "o1", lines); err != nil {
		t.Fatal(err)
	}
	checkStock(t, store, "A1", 3, 2, 0)
	r, _ := store.StoredReservation("o1")
	if p, _ := store.Stored("A1"); len(p.Marks) != 0 || r.Status != inventory.StatusReserved || r.Applied["A1"] != inventory.StepReserve {
		t.Errorf("after the redelivery A1 = %+v, reservation %+v; want no mark, reserved with A1's reserve recorded", p, r)
	}
}

// A crash after the record and before the clean-up leaves a mark that the
// reservation records: the redelivery changes nothing, and the order's
// next step on the product replaces the mark.
func TestCrashAfterRecordBeforeCleanup(t *testing.T) {
	ctx := context.Background()
	store := inventorytest.NewStore(product("A1", 5))
	svc := newService(store, &inventorytest.Publisher{})
	lines := []inventory.Line{{SKU: "A1", Quantity: 2}}
	crash := failNth(store, "product:A1", 2) // 1: the reserve, 2: the clean-up
	if err := svc.OrderCreated(ctx, "o1", lines); !errors.Is(err, *crash) {
		t.Fatalf("OrderCreated() = %v; want the crash", err)
	}
	store.Fake.FailWrite = nil
	if err := svc.OrderCreated(ctx, "o1", lines); err != nil {
		t.Fatal(err)
	}
	checkStock(t, store, "A1", 3, 2, 0)
	r, _ := store.StoredReservation("o1")
	if p, _ := store.Stored("A1"); r.Status != inventory.StatusReserved || r.Applied["A1"] != inventory.StepReserve || p.StepOf("o1", r.Applied["A1"]) != inventory.StepReserve {
		t.Errorf("A1 = %+v, reservation %+v; want reserved, with the reserve recorded", p, r)
	}
	// The next step replaces the mark left behind.
	crash = failNth(store, "product:A1", 2) // 1: the commit, 2: its clean-up
	if err := svc.OrderConfirmed(ctx, "o1"); !errors.Is(err, *crash) {
		t.Fatalf("OrderConfirmed() = %v; want the crash", err)
	}
	store.Fake.FailWrite = nil
	if err := svc.OrderCancelled(ctx, "o1", "customer"); err != nil {
		t.Fatal(err)
	}
	checkStock(t, store, "A1", 5, 0, 0)
	if p, _ := store.Stored("A1"); len(p.Marks) != 0 {
		t.Errorf("A1 = %+v; want the release to replace the commit's mark and clean up", p)
	}
}

// A mark left by a delivery that crashed before its clean-up and is never
// redelivered (its release was the order's last step) is dropped by a later
// write of the product, once it is older than StaleMarkAfter.
func TestStaleRecordedMarksAreSwept(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	store := inventorytest.NewStore(product("A1", 5))
	svc := newService(store, &inventorytest.Publisher{}, inventory.WithClock(func() time.Time { return now }))
	lines := []inventory.Line{{SKU: "A1", Quantity: 2}}
	if err := svc.OrderCreated(ctx, "o1", lines); err != nil {
		t.Fatal(err)
	}
	crash := failNth(store, "product:A1", 2) // 1: the release, 2: its clean-up
	if err := svc.OrderCancelled(ctx, "o1", "customer"); !errors.Is(err, *crash) {
		t.Fatalf("OrderCancelled() = %v; want the crash", err)
	}
	store.Fake.FailWrite = nil
	if p, _ := store.Stored("A1"); p.Marks["o1"].Step != inventory.StepRelease {
		t.Fatalf("A1 = %+v; want o1's release marked", p)
	}
	if err := svc.OrderCreated(ctx, "o2", lines); err != nil {
		t.Fatal(err)
	}
	if p, _ := store.Stored("A1"); p.Marks["o1"].Step != inventory.StepRelease {
		t.Errorf("A1 = %+v; a mark younger than StaleMarkAfter was dropped", p)
	}
	now = now.Add(inventory.StaleMarkAfter + time.Second)
	if err := svc.OrderConfirmed(ctx, "o2"); err != nil {
		t.Fatal(err)
	}
	if p, _ := store.Stored("A1"); len(p.Marks) != 0 {
		t.Errorf("A1 = %+v; want o1's recorded mark swept", p)
	}
	checkStock(t, store, "A1", 5-2, 0, 2)
}

// A commit that crashed before its record and an order.cancelled that
// arrives then: the release finds the commit's mark and takes the units
// back from sold; the redelivered order.confirmed sells nothing.
func TestReleaseOfAnUnrecordedCommit(t *testing.T) {
	ctx := context.Background()
	store := inventorytest.NewStore(product("A1", 5), product("B1", 5))
	svc := newService(store, &inventorytest.Publisher{})
	lines := []inventory.Line{{SKU: "A1", Quantity: 2}, {SKU: "B1", Quantity: 1}}
	if err := svc.OrderCreated(ctx, "o1", lines); err != nil {
		t.Fatal(err)
	}
	// The reservation's writes of order.confirmed: 1 the move to committing,
	// 2 the record of A1's commit.
	crash := failNth(store, "reservation:o1", 2)
	if err := svc.OrderConfirmed(ctx, "o1"); !errors.Is(err, *crash) {
		t.Fatalf("OrderConfirmed() = %v; want the crash", err)
	}
	store.Fake.FailWrite = nil
	checkStock(t, store, "A1", 3, 0, 2)
	checkStock(t, store, "B1", 4, 1, 0)
	if err := svc.OrderCancelled(ctx, "o1", "customer"); err != nil {
		t.Fatal(err)
	}
	if err := svc.OrderConfirmed(ctx, "o1"); err != nil {
		t.Fatal(err)
	}
	checkStock(t, store, "A1", 5, 0, 0)
	checkStock(t, store, "B1", 5, 0, 0)
	for _, sku := range []string{"A1", "B1"} {
		if p, _ := store.Stored(sku); len(p.Marks) != 0 {
			t.Errorf("%s = %+v; want no mark", sku, p)
		}
	}
}

// A redelivery that comes after many other orders went through the product
// (more than the old log of 200 entries remembered) still applies nothing
// twice, and a committed order released long after is released once.
func TestLateRedeliveriesAfterManyOrders(t *testing.T) {
	ctx := context.Background()
	store := inventorytest.NewStore(product("HOT", 1000))
	pub := &inventorytest.Publisher{}
	svc := newService(store, pub)
	mine := []inventory.Line{{SKU: "HOT", Quantity: 3}}
	if err := svc.OrderCreated(ctx, "o-first", mine); err != nil {
		t.Fatal(err)
	}
	if err := svc.OrderConfirmed(ctx, "o-first"); err != nil {
		t.Fatal(err)
	}
	const others = 300
	for i := range others {
		id := fmt.Sprintf("o%d", i)
		if err := svc.OrderCreated(ctx, id, []inventory.Line{{SKU: "HOT", Quantity: 1}}); err != nil {
			t.Fatal(err)
		}
		if err := svc.OrderConfirmed(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	checkStock(t, store, "HOT", 1000-3-others, 0, 3+others)
	size := store.Size("HOT")
	// The first order's events, again, long after.
	if err := svc.OrderCreated(ctx, "o-first", mine); err != nil {
		t.Fatal(err)
	}
	if err := svc.OrderConfirmed(ctx, "o-first"); err != nil {
		t.Fatal(err)
	}
	checkStock(t, store, "HOT", 1000-3-others, 0, 3+others)
	for range 2 {
		if err := svc.OrderCancelled(ctx, "o-first", "customer"); err != nil {
			t.Fatal(err)
		}
	}
	if err := svc.OrderCreated(ctx, "o-first", mine); err != nil {
		t.Fatal(err)
	}
	checkStock(t, store, "HOT", 1000-others, 0, others)
	if got := store.Size("HOT"); got != size {
		t.Errorf("HOT is %d bytes after the late events; was %d", got, size)
	}
}

// A hot product: 1000 orders of it, every event delivered twice at once,
// confirmed or cancelled or left reserved. Every step is applied exactly
// once, and the product's record stays as small as the orders in flight
// need, never growing with the orders placed.
func TestHotProductThousandOrders(t *testing.T) {
	if testing.Short() {
		t.Skip("a thousand orders on one key")
	}
	ctx := context.Background()
	const orders, stock, workers = 1000, 700, 8
	store, h := newHooked(t, product("HOT", stock))
	svc := newService(store, &inventorytest.Publisher{})
	twice := func(f func() error) error {
		errs := make(chan error, 2)
		for range 2 {
			go func() { errs <- f() }()
		}
		return errors.Join(<-errs, <-errs)
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				id := fmt.Sprintf("o%d", i)
				q := int64(1 + i%2)
				err := twice(func() error { return svc.OrderCreated(ctx, id, []inventory.Line{{SKU: "HOT", Quantity: q}}) })
				switch {
				case err != nil:
				case i%3 == 0:
					err = twice(func() error { return svc.OrderConfirmed(ctx, id) })
				case i%3 == 1:
					err = twice(func() error { return svc.OrderCancelled(ctx, id, "customer") })
				}
				if err != nil && !errors.Is(err, inventory.ErrNotApplicable) {
					t.Errorf("order %s: %v", id, err)
				}
			}
		})
	}
	for i := range orders {
		next <- i
	}
	close(next)
	wg.Wait()

	var held, sold int64
	statuses := map[inventory.Status]int{}
	for i := range orders {
		r, ok := store.StoredReservation(fmt.Sprintf("o%d", i))
		if !ok {
			t.Fatalf("o%d has no reservation", i)
		}
		statuses[r.Status]++
		q := int64(1 + i%2)
		switch r.Status {
		case inventory.StatusReserved:
			held += q
		case inventory.StatusCommitted:
			sold += q
		case inventory.StatusRejected, inventory.StatusReleased:
		default:
			t.Errorf("o%d is %s; want a resting status", i, r.Status)
		}
	}
	checkStock(t, store, "HOT", stock-held-sold, held, sold)
	if statuses[inventory.StatusRejected] == 0 || statuses[inventory.StatusCommitted] == 0 {
		t.Errorf("statuses %v; want some orders rejected and some sold (the stock is sized for it)", statuses)
	}
	p, _ := store.Stored("HOT")
	p.Marks = nil
	if got, empty := store.Size("HOT"), len(mustJSON(t, p)); got != empty {
		t.Errorf("HOT is %d bytes after %d orders; want %d, a product with no mark", got, orders, empty)
	}
	// At most two deliveries of each of the workers' orders are in flight:
	// a mark each, at most.
	p.Marks = map[string]inventory.Mark{}
	for i := range 2 * workers {
		p.Marks[fmt.Sprintf("o%d", orders-i)] = inventory.Mark{Step: inventory.StepUnreserve, At: time.Now()}
	}
	bound := len(mustJSON(t, p)) + 64 // digits of the counters and of the marks' times vary
	h.mu.Lock()
	largest := h.largest["product:HOT"]
	h.mu.Unlock()
	if largest > bound {
		t.Errorf("HOT grew to %d bytes; want at most %d (a mark per delivery in flight)", largest, bound)
	}
	t.Logf("statuses %v; HOT at most %d bytes (bound %d); %d writes lost a race", statuses, largest, bound, svc.Stats().ConflictsRetried)
}

func mustJSON(t *testing.T, p inventory.Product) string {
	t.Helper()
	f := daprstatetest.New()
	s := inventorystore.New(f, "s")
	if err := s.InsertProduct(context.Background(), inventory.Product{SKU: p.SKU, Available: p.Available, Reserved: p.Reserved, Sold: p.Sold, Received: p.Received}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateProduct(context.Background(), p.SKU, func(q *inventory.Product) error { *q = p; return nil }); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(f.Keys()["product:"+p.SKU]))
}
