package orderstore

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	dapr "github.com/dapr/go-sdk/client"

	"shop/platform/daprstate"
	"shop/platform/daprstate/daprstatetest"
)

// saves counts the save calls to the state API (a bulk save is one).
type saves struct {
	*daprstatetest.Fake
	n atomic.Int64
}

func (c *saves) SaveStateWithETag(ctx context.Context, store, key string, data []byte, etag string, meta map[string]string, so ...dapr.StateOption) error {
	c.n.Add(1)
	return c.Fake.SaveStateWithETag(ctx, store, key, data, etag, meta, so...)
}

func (c *saves) SaveBulkState(ctx context.Context, store string, items ...*dapr.SetStateItem) error {
	c.n.Add(1)
	return c.Fake.SaveBulkState(ctx, store, items...)
}

// Orders indexed while an index write is under way are written together,
// in one save, by the next write.
func TestIndexGroupsConcurrentOrders(t *testing.T) {
	ctx := context.Background()
	fake := &saves{Fake: daprstatetest.New()}
	s := New(daprstate.New(fake, "orders-state"))
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	fake.BeforeWrite = func(string) { once.Do(func() { close(entered); <-release }) }

	const waiting = 20
	t0 := time.Now()
	first := newOrder("u1", t0)
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := s.Index(ctx, first, t0); err != nil {
			t.Error(err)
		}
	})
	// The first write is held in its save; these queue behind it.
	<-entered
	orders := make([]string, waiting)
	for i := range waiting {
		o := newOrder([]string{"u1", "u2", "u3"}[i%3], t0.Add(time.Duration(i+1)*time.Millisecond))
		orders[i] = o.ID
		wg.Go(func() {
			if err := s.Index(ctx, o, t0); err != nil {
				t.Error(err)
			}
		})
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		n := s.indexing.Pending()
		if n == waiting {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d index requests queued after 10 s", n, waiting)
		}
		runtime.Gosched()
	}
	close(release)
	wg.Wait()
	if got := fake.n.Load(); got != 2 {
		t.Errorf("%d orders indexed at once took %d saves; want 2 (the first order's, then one for the rest)", waiting+1, got)
	}
	watched, err := s.Watched(ctx)
	if err != nil {
		t.Fatal(err)
	}
	inSweep := map[string]bool{}
	for _, w := range watched {
		inSweep[w.OrderID] = true
	}
	for _, id := range append(orders, first.ID) {
		if !inSweep[id] {
			t.Errorf("order %s is not in the sweep's index", id)
		}
	}
	listed := len(listAll(t, s, "u1", 100)) + len(listAll(t, s, "u2", 100)) + len(listAll(t, s, "u3", 100))
	if listed != 0 {
		// None was inserted: listings skip ids without an order.
		t.Errorf("listings show %d orders that were never inserted", listed)
	}
	ids := map[string]bool{}
	for _, list := range []string{userList("u1"), userList("u2"), userList("u3")} {
		p, _, err := daprstate.Get[page](ctx, s.db, pageKey(list, 0))
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range p.IDs {
			ids[id] = true
		}
	}
	for _, id := range append(orders, first.ID) {
		if !ids[id] {
			t.Errorf("order %s is not on its user's index page", id)
		}
	}
}
