package orderstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	dapr "github.com/dapr/go-sdk/client"

	"shop/ordersvc/internal/contracttest"
	"shop/ordersvc/internal/order"
	"shop/platform/daprstate"
	"shop/platform/daprstate/daprstatetest"
)

// The contract of the store, run on the fake state API here and, by the
// end-to-end suite, on every profile's real sidecar (TestContractSidecar).
func TestContractFake(t *testing.T) { contract(t, contracttest.Fake()) }

// TestContractSidecar runs the contract against a real sidecar when the
// end-to-end suite names one (e2e/orderstore_contract_test.go).
func TestContractSidecar(t *testing.T) { contract(t, contracttest.Sidecar(t)) }

func unique(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

func newOrder(userID string, at time.Time) order.Order {
	return order.Order{ID: order.NewID(at), UserID: userID, Status: order.StatusPending, CreatedAt: at, UpdatedAt: at,
		Items: []order.Item{{SKU: "BOOK", Quantity: 1, UnitPriceCents: 100}}, TotalCents: 100}
}

func contract(t *testing.T, db *daprstate.Store) {
	ctx := context.Background()
	s := New(db)

	t.Run("an insert never overwrites an order", func(t *testing.T) {
		o := newOrder(unique("u"), time.Now())
		if err := s.Insert(ctx, o); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Update(ctx, o.ID, func(o *order.Order) error { o.Confirm(time.Now()); return nil }); err != nil {
			t.Fatal(err)
		}
		again := o
		if err := s.Insert(ctx, again); !errors.Is(err, order.ErrConflict) {
			t.Errorf("second Insert = %v; want order.ErrConflict", err)
		}
		if got, err := s.Get(ctx, o.ID); err != nil || got.Status != order.StatusConfirmed {
			t.Errorf("after a second insert the order is %s, %v; want still confirmed", got.Status, err)
		}
	})

	t.Run("concurrent updates lose nothing", func(t *testing.T) {
		o := newOrder(unique("u"), time.Now())
		if err := s.Insert(ctx, o); err != nil {
			t.Fatal(err)
		}
		const n = 10
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := s.Update(ctx, o.ID, func(o *order.Order) error {
					o.Outbox = append(o.Outbox, order.Event{ID: fmt.Sprint(i), Type: order.TypeOrderCreated})
					return nil
				})
				if err != nil {
					t.Errorf("Update = %v", err)
				}
			}()
		}
		wg.Wait()
		if got, _ := s.Get(ctx, o.ID); len(got.Outbox) != n {
			t.Errorf("%d concurrent updates left %d events; want %d", n, len(got.Outbox), n)
		}
		if _, err := s.Update(ctx, order.NewID(time.Now()), func(*order.Order) error { return nil }); !errors.Is(err, order.ErrNotFound) {
			t.Errorf("Update(absent) = %v; want order.ErrNotFound", err)
		}
	})

	t.Run("one claim of an idempotency key wins", func(t *testing.T) {
		user, key := unique("u"), unique("k")
		const n = 10
		got := make([]string, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				id, _, err := s.ClaimKey(ctx, user, key, fmt.Sprintf("order-%d", i), "h")
				if err != nil {
					t.Errorf("ClaimKey = %v", err)
				}
				got[i] = id
			}()
		}
		wg.Wait()
		for i := range n {
			if got[i] != got[0] {
				t.Fatalf("claims answered %v; want one order id for all", got)
			}
		}
	})

	t.Run("a user's orders page through every index page", func(t *testing.T) {
		user := unique("u")
		const n = PageSize + 30
		t0 := time.Now()
		var want []string
		for i := range n {
			o := newOrder(user, t0.Add(time.Duration(i)*time.Millisecond))
			if err := s.Index(ctx, o, time.Now()); err != nil {
				t.Fatal(err)
			}
			if i%7 == 3 {
				continue // indexed, never stored: skipped by listings
			}
			if err := s.Insert(ctx, o); err != nil {
				t.Fatal(err)
			}
			want = append(want, o.ID)
		}
		slices.Reverse(want)
		got := listAll(t, s, user, 25)
		if !slices.Equal(got, want) {
			t.Errorf("listing of %d orders gave %d, first %v; want all, newest first", len(want), len(got), got[:min(3, len(got))])
		}
	})

	t.Run("clearing events removes those only and creates no order", func(t *testing.T) {
		o := newOrder(unique("u"), time.Now())
		o.Outbox = []order.Event{{ID: "e1", Type: order.TypeOrderCreated}, {ID: "e2", Type: order.TypeOrderCancelled}}
		if err := s.Insert(ctx, o); err != nil {
			t.Fatal(err)
		}
		absent := order.NewID(time.Now())
		var wg sync.WaitGroup
		for _, c := range []struct{ id, event string }{{o.ID, "e1"}, {absent, "e1"}, {o.ID, "e9"}} {
			wg.Go(func() {
				if err := s.ClearEvents(ctx, c.id, []string{c.event}); err != nil {
					t.Errorf("ClearEvents(%s, %s) = %v", c.id, c.event, err)
				}
			})
		}
		wg.Wait()
		got, err := s.Get(ctx, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Outbox) != 1 || got.Outbox[0].ID != "e2" {
			t.Errorf("outbox after clearing e1 = %v; want only e2", got.Outbox)
		}
		if _, err := s.Get(ctx, absent); !errors.Is(err, order.ErrNotFound) {
			t.Errorf("Get of an order only cleared = %v; want ErrNotFound", err)
		}
	})

	t.Run("two replicas indexing one user's orders at once list each once", func(t *testing.T) {
		// Each Store caches the heads it read; the other replica moves
		// them on, so each one's cache goes stale across the page
		// boundaries. The indexing of Watch rides along: every order must
		// be in the sweep's index too.
		user := unique("u")
		replicas := []*Store{s, New(db)}
		const n = 2*PageSize + 10
		orders := make([]order.Order, n)
		t0 := time.Now()
		for i := range orders {
			orders[i] = newOrder(user, t0.Add(time.Duration(i)*time.Microsecond))
		}
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Go(func() {
				for i := w; i < n; i += 8 {
					if err := replicas[i%2].Index(ctx, orders[i], time.Now()); err != nil {
						t.Errorf("Index = %v", err)
						return
					}
					if err := replicas[i%2].Insert(ctx, orders[i]); err != nil {
						t.Errorf("Insert = %v", err)
						return
					}
				}
			})
		}
		wg.Wait()
		got := listAll(t, s, user, 100)
		seen := map[string]int{}
		for _, id := range got {
			seen[id]++
		}
		for _, o := range orders {
			if seen[o.ID] != 1 {
				t.Fatalf("order %s listed %d times; want once (%d listed of %d)", o.ID, seen[o.ID], len(got), n)
			}
		}
		if len(got) != n {
			t.Fatalf("listed %d orders; want %d", len(got), n)
		}
		watched, err := s.Watched(ctx)
		if err != nil {
			t.Fatal(err)
		}
		inSweep := map[string]bool{}
		for _, w := range watched {
			inSweep[w.OrderID] = true
		}
		for _, o := range orders {
			if !inSweep[o.ID] {
				t.Fatalf("order %s is not in the sweep's index", o.ID)
			}
		}
	})

	t.Run("the sweep's index keeps an entry marked again", func(t *testing.T) {
		id := order.NewID(time.Now())
		if err := s.Watch(ctx, id, time.Now()); err != nil {
			t.Fatal(err)
		}
		old := watchOf(t, s, id)
		if err := s.Watch(ctx, id, time.Now()); err != nil {
			t.Fatal(err)
		}
		if err := s.Unwatch(ctx, []order.Watch{old}); err != nil {
			t.Fatal(err)
		}
		cur := watchOf(t, s, id)
		if cur.OrderID == "" {
			t.Fatal("Unwatch with a stale mark removed the entry")
		}
		if err := s.Unwatch(ctx, []order.Watch{cur}); err != nil {
			t.Fatal(err)
		}
		if watchOf(t, s, id).OrderID != "" {
			t.Error("Unwatch with the current mark kept the entry")
		}
	})
}

func watchOf(t *testing.T, s *Store, id string) order.Watch {
	t.Helper()
	all, err := s.Watched(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range all {
		if w.OrderID == id {
			return w
		}
	}
	return order.Watch{}
}

func listAll(t *testing.T, s *Store, user string, limit int) []string {
	t.Helper()
	var ids []string
	cursor := ""
	for range 1000 {
		page, next, err := s.List(context.Background(), user, cursor, limit)
		if err != nil {
			t.Fatalf("List(%q) = %v", cursor, err)
		}
		if len(page) > limit {
			t.Fatalf("List gave %d orders; limit %d", len(page), limit)
		}
		for _, o := range page {
			ids = append(ids, o.ID)
		}
		if next == "" {
			return ids
		}
		if !s.ValidCursor(next) {
			t.Fatalf("List returned cursor %q that ValidCursor refuses", next)
		}
		cursor = next
	}
	t.Fatal("listing never ended")
	return nil
}

// reads counts the state reads a store makes.
type reads struct {
	*daprstatetest.Fake
	n atomic.Int64
}

func (r *reads) GetState(ctx context.Context, store, key string, meta map[string]string) (*dapr.StateItem, error) {
	r.n.Add(1)
	return r.Fake.GetState(ctx, store, key, meta)
}

func (r *reads) GetBulkState(ctx context.Context, store string, keys []string, meta map[string]string, p int32) ([]*dapr.BulkStateItem, error) {
	r.n.Add(1)
	return r.Fake.GetBulkState(ctx, store, keys, meta, p)
}

// A page of a listing reads the heads, at most two index pages per list
// and the orders on them, however many orders exist; adding an order to
// the indexes costs the same reads at a hundred orders as at a thousand.
func TestListingCostDoesNotGrowWithOrders(t *testing.T) {
	ctx := context.Background()
	// user, all: the most reads of one listing call (20 orders; the first
	// page, then the next) of a user's orders and of all orders; index:
	// the reads of indexing one order.
	cost := func(n int) (user, all, index int64) {
		fake := &reads{Fake: daprstatetest.New()}
		s := New(daprstate.New(fake, "orders-state"))
		t0 := time.Now()
		for i := range n {
			o := newOrder("u1", t0.Add(time.Duration(i)*time.Millisecond))
			if err := s.Index(ctx, o, time.Now()); err != nil {
				t.Fatal(err)
			}
			if err := s.Insert(ctx, o); err != nil {
				t.Fatal(err)
			}
		}
		before := fake.n.Load()
		last := newOrder("u1", t0.Add(time.Hour))
		if err := s.Index(ctx, last, time.Now()); err != nil {
			t.Fatal(err)
		}
		index = fake.n.Load() - before
		if err := s.Insert(ctx, last); err != nil {
			t.Fatal(err)
		}
		for _, u := range []string{"u1", ""} {
			before = fake.n.Load()
			page, next, err := s.List(ctx, u, "", 20)
			if err != nil || len(page) != 20 || next == "" {
				t.Fatalf("List(%q) = %d orders, %q, %v", u, len(page), next, err)
			}
			first := fake.n.Load() - before
			before = fake.n.Load()
			if _, _, err := s.List(ctx, u, next, 20); err != nil {
				t.Fatal(err)
			}
			most := max(first, fake.n.Load()-before)
			if u == "" {
				all = most
			} else {
				user = most
			}
		}
		return user, all, index
	}
	// One call reads the heads (one bulk read), at most two pages of each
	// list (a newest page may hold only a few ids) and the orders (one
	// bulk read).
	bound := func(lists int64) int64 { return 1 + 2*lists + 1 }
	for _, n := range []int{PageSize + 40, 10*PageSize + 40} {
		user, all, index := cost(n)
		if user > bound(1) || all > bound(shards) {
			t.Errorf("at %d orders a listing call made %d reads of a user's orders (want at most %d) and %d of all orders (want at most %d)",
				n, user, bound(1), all, bound(shards))
		}
		if index != 1 {
			t.Errorf("at %d orders indexing one order made %d reads; want 1 (one bulk read)", n, index)
		}
	}
}

// All orders, merged from the shards, newest first, each once.
func TestListAllOrders(t *testing.T) {
	ctx := context.Background()
	s := New(daprstate.New(daprstatetest.New(), "orders-state"))
	t0 := time.Now()
	var want []string
	for i := range 3 * PageSize {
		o := newOrder(fmt.Sprintf("u%d", i%3), t0.Add(time.Duration(i)*time.Millisecond))
		if err := s.Index(ctx, o, time.Now()); err != nil {
			t.Fatal(err)
		}
		if err := s.Insert(ctx, o); err != nil {
			t.Fatal(err)
		}
		want = append(want, o.ID)
	}
	slices.Reverse(want)
	if got := listAll(t, s, "", 37); !slices.Equal(got, want) {
		t.Errorf("all orders listed %d, want %d newest first", len(got), len(want))
	}
	if len(listAll(t, s, "u1", 100)) != PageSize {
		t.Errorf("u1's listing does not hold its %d orders", PageSize)
	}
}

func TestCursors(t *testing.T) {
	s := New(daprstate.New(daprstatetest.New(), "orders-state"))
	id := order.NewID(time.Now())
	for c, want := range map[string]bool{
		"0.": true, "3." + id: true, "-": true,
		"": false, "x": false, "-1.": false, "01.": false, "3.nope": false, "1.,2.": false,
	} {
		if got := s.ValidCursor(c); got != want {
			t.Errorf("ValidCursor(%q) = %v; want %v", c, got, want)
		}
	}
	if _, _, err := s.List(context.Background(), "", "0.", 10); !errors.Is(err, order.ErrBadCursor) {
		t.Errorf("all-orders List with a user's cursor = %v; want order.ErrBadCursor", err)
	}
}
