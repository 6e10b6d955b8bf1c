package inventorystore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"shop/inventorysvc/internal/inventory"
	"shop/platform/daprstate"
	"shop/platform/daprstate/daprstatetest"
)

// The contract of the store, run against daprstatetest's fake here, and
// against each profile's real sidecar by e2e/contract_test.go.
func TestContractFake(t *testing.T)    { runContract(t, daprstatetest.FakeComponent("inventory-state")) }
func TestContractSidecar(t *testing.T) { runContract(t, daprstatetest.Sidecar(t, "inventory-state")) }

func product(sku string, stock int64) inventory.Product {
	return inventory.Product{SKU: sku, Name: "Thing " + sku, PriceCents: 100, Available: stock, Received: stock}
}

func restock(p *inventory.Product) error { return p.Restock(1) }

func runContract(t *testing.T, c daprstatetest.Component) {
	client, name := c.Client, c.Name
	ctx := context.Background()
	s := New(client, name)
	run := fmt.Sprintf("CT%d", time.Now().UnixNano()%1e12)
	sku := func(n string) string { return run + "-" + n }
	etag := func(t *testing.T, key string) string {
		t.Helper()
		it, err := client.GetState(ctx, name, key, nil)
		if err != nil {
			t.Fatal(err)
		}
		return it.Etag
	}

	t.Run("insert is first-write", func(t *testing.T) {
		a := product(sku("A"), 3)
		if err := s.InsertProduct(ctx, a); err != nil {
			t.Fatalf("InsertProduct() = %v", err)
		}
		if err := s.InsertProduct(ctx, product(a.SKU, 9)); !errors.Is(err, inventory.ErrExists) {
			t.Errorf("InsertProduct(taken) = %v; want ErrExists", err)
		}
		if got, err := s.Product(ctx, a.SKU); err != nil || got.Available != 3 {
			t.Errorf("after a lost insert Product() = %+v, %v; want the first", got, err)
		}
		broken := product(sku("BROKEN"), 1)
		broken.Received = 7
		if err := s.InsertProduct(ctx, broken); !errors.Is(err, inventory.ErrInvariant) {
			t.Errorf("InsertProduct(stock that does not add up) = %v; want ErrInvariant", err)
		}
		if _, err := s.Product(ctx, sku("NONE")); !errors.Is(err, inventory.ErrNotFound) {
			t.Errorf("Product(missing) = %v; want ErrNotFound", err)
		}
	})

	t.Run("update of a missing product writes nothing", func(t *testing.T) {
		called := false
		_, err := s.UpdateProduct(ctx, sku("NONE"), func(*inventory.Product) error { called = true; return nil })
		if !errors.Is(err, inventory.ErrNotFound) || called {
			t.Errorf("UpdateProduct(missing) = %v (fn called %v); want ErrNotFound, fn not called", err, called)
		}
		if _, err := s.Product(ctx, sku("NONE")); !errors.Is(err, inventory.ErrNotFound) {
			t.Errorf("UpdateProduct(missing) created it: %v", err)
		}
	})

	t.Run("unchanged and refused updates write nothing", func(t *testing.T) {
		key := productKey(sku("A"))
		before := etag(t, key)
		got, err := s.UpdateProduct(ctx, sku("A"), func(*inventory.Product) error { return inventory.ErrUnchanged })
		if err != nil || got.Available != 3 || etag(t, key) != before {
			t.Errorf("UpdateProduct(unchanged) = %+v, %v, ETag %s -> %s; want the product as read, no write", got, err, before, etag(t, key))
		}
		_, err = s.UpdateProduct(ctx, sku("A"), func(p *inventory.Product) error { p.Reserved++; return nil })
		if !errors.Is(err, inventory.ErrInvariant) || etag(t, key) != before {
			t.Errorf("UpdateProduct(stock that does not add up) = %v; want ErrInvariant, no write", err)
		}
		boom := errors.New("boom")
		if _, err := s.UpdateProduct(ctx, sku("A"), func(*inventory.Product) error { return boom }); !errors.Is(err, boom) || etag(t, key) != before {
			t.Errorf("UpdateProduct(fn fails) = %v; want fn's error, no write", err)
		}
	})

	t.Run("a lost race is retried from a fresh read", func(t *testing.T) {
		calls := 0
		got, err := s.UpdateProduct(ctx, sku("A"), func(p *inventory.Product) error {
			calls++
			if calls == 1 { // a concurrent writer gets there first
				if _, err := s.UpdateProduct(ctx, sku("A"), restock); err != nil {
					return err
				}
			}
			return p.Restock(10)
		})
		if err != nil || calls != 2 || got.Received != 14 {
			t.Errorf("UpdateProduct() losing one race = %+v, %v after %d calls; want both restocks (14 received) after 2", got, err, calls)
		}
	})

	t.Run("a stale ETag is ErrConflict once the attempts are spent", func(t *testing.T) {
		once := New(client, name, daprstate.WithAttempts(1))
		_, err := once.UpdateProduct(ctx, sku("A"), func(p *inventory.Product) error {
			if _, err := s.UpdateProduct(ctx, sku("A"), restock); err != nil {
				return err
			}
			return p.Restock(1)
		})
		if !errors.Is(err, inventory.ErrConflict) {
			t.Errorf("UpdateProduct() losing its only attempt = %v; want ErrConflict", err)
		}
		if once.Conflicts() != 1 {
			t.Errorf("Conflicts() = %d; want the lost write counted", once.Conflicts())
		}
		rOnce := New(client, name, daprstate.WithAttempts(1))
		id := run + "-stale"
		if _, err := s.UpdateReservation(ctx, id, func(r *inventory.Reservation, _ bool) error { *r = inventory.Tombstone(id); return nil }); err != nil {
			t.Fatal(err)
		}
		_, err = rOnce.UpdateReservation(ctx, id, func(r *inventory.Reservation, _ bool) error {
			if _, err := s.UpdateReservation(ctx, id, func(r *inventory.Reservation, _ bool) error { r.From = inventory.StatusReserved; return nil }); err != nil {
				return err
			}
			r.From = inventory.StatusCommitted
			return nil
		})
		if !errors.Is(err, inventory.ErrConflict) {
			t.Errorf("UpdateReservation() losing its only attempt = %v; want ErrConflict", err)
		}
		if r, err := s.Reservation(ctx, id); err != nil || r.From != inventory.StatusReserved {
			t.Errorf("Reservation() = %+v, %v; want the winner's write only", r, err)
		}
	})

	t.Run("concurrent updates lose nothing", func(t *testing.T) {
		const n = 20
		c := product(sku("C"), 0)
		if err := s.InsertProduct(ctx, c); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() { _, errs[i] = s.UpdateProduct(ctx, c.SKU, restock) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("restock %d: %v", i, err)
			}
		}
		if got, err := s.Product(ctx, c.SKU); err != nil || got.Received != n || got.Available != n {
			t.Errorf("after %d concurrent restocks Product() = %+v, %v; want %d received", n, got, err, n)
		}
	})

	t.Run("concurrent inserts of a reservation: exactly one", func(t *testing.T) {
		const n = 10
		id := run + "-race"
		var (
			mu       sync.Mutex
			inserted []int
			wg       sync.WaitGroup
		)
		for i := range n {
			wg.Go(func() {
				mine := false
				_, err := s.UpdateReservation(ctx, id, func(r *inventory.Reservation, found bool) error {
					if mine = !found; found {
						return inventory.ErrUnchanged
					}
					*r = inventory.NewReservation(id, []inventory.Line{{SKU: sku("A"), Quantity: int64(i + 1)}})
					return nil
				})
				if err != nil {
					t.Errorf("insert %d: %v", i, err)
				}
				if mine {
					mu.Lock()
					inserted = append(inserted, i)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		r, err := s.Reservation(ctx, id)
		if err != nil || len(inserted) != 1 || r.Lines[0].Quantity != int64(inserted[0]+1) {
			t.Errorf("inserted by %v, stored %+v, %v; want exactly one insert, the one stored", inserted, r, err)
		}
	})

	t.Run("bulk reads skip what is missing", func(t *testing.T) {
		ps, err := s.Products(ctx, []string{sku("A"), sku("NONE"), sku("C")})
		if err != nil || len(ps) != 2 || ps[sku("A")].SKU != sku("A") || ps[sku("C")].SKU != sku("C") {
			t.Errorf("Products() = %+v, %v; want A and C", ps, err)
		}
		rs, err := s.Reservations(ctx, []string{run + "-race", run + "-none"})
		if err != nil || len(rs) != 1 || rs[run+"-race"].OrderID != run+"-race" {
			t.Errorf("Reservations() = %+v, %v; want the one that exists", rs, err)
		}
	})

	t.Run("the catalog is a set, and lists what exists", func(t *testing.T) {
		skus := []string{sku("C"), sku("A"), sku("NONE")}
		var wg sync.WaitGroup
		for _, k := range skus {
			wg.Go(func() {
				if err := s.AddToCatalog(ctx, k); err != nil {
					t.Errorf("AddToCatalog(%s): %v", k, err)
				}
			})
		}
		wg.Wait()
		if err := s.AddToCatalog(ctx, sku("A")); err != nil {
			t.Fatal(err)
		}
		page, err := s.List(ctx, run, 10)
		if err != nil {
			t.Fatal(err)
		}
		var mine []string
		for _, p := range page.Products {
			if strings.HasPrefix(p.SKU, run+"-") {
				mine = append(mine, p.SKU)
			}
		}
		if want := []string{sku("A"), sku("C")}; !slices.Equal(mine, want) {
			t.Errorf("listed %v; want %v once each (NONE is listed but does not exist)", mine, want)
		}
	})
}

func TestStoreErrorsAreNotConflicts(t *testing.T) {
	f := daprstatetest.New()
	s := New(f, "inventory-state")
	ctx := context.Background()
	if err := s.InsertProduct(ctx, product("A1", 1)); err != nil {
		t.Fatal(err)
	}
	f.FailWrite = func(string) error { return status.Error(codes.Unavailable, "connection refused") }
	_, err := s.UpdateProduct(ctx, "A1", restock)
	if err == nil || errors.Is(err, inventory.ErrConflict) {
		t.Errorf("UpdateProduct() with the sidecar down = %v; want an error that is no conflict", err)
	}
	if s.Conflicts() != 0 {
		t.Errorf("Conflicts() = %d; want 0", s.Conflicts())
	}
}

func TestStoredValuesCarryNoETag(t *testing.T) {
	f := daprstatetest.New()
	s := New(f, "inventory-state")
	ctx := context.Background()
	if err := s.InsertProduct(ctx, product("A1", 1)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateProduct(ctx, "A1", restock); err != nil {
		t.Fatal(err)
	}
	want := `{"sku":"A1","name":"Thing A1","price_cents":100,"available":2,"reserved":0,"sold":0,"received":2}`
	if got := string(f.Keys()["product:A1"]); got != want {
		t.Errorf("stored %s; want %s", got, want)
	}
}
