// Package inventorytest has what tests of the inventory domain need instead
// of a Dapr sidecar: the real store adapter (inventorystore) on
// daprstatetest's fake of the Dapr state API, which is no more forgiving
// than the weakest store (single-key writes with ETags and first-write,
// no multi-key transaction, lost races answered as Redis answers them),
// and a publisher that records what it is asked to publish.
package inventorytest

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"

	"shop/inventorysvc/internal/inventory"
	"shop/inventorysvc/internal/inventorystore"
	"shop/platform/daprstate"
	"shop/platform/daprstate/daprstatetest"
)

// Store is the inventory's store adapter on a fake state API.
type Store struct {
	*inventorystore.Store
	// Fake is the state API under the store: tests interleave writers
	// (BeforeWrite), fail writes as a crash would (FailWrite), and read
	// the raw keys.
	Fake *daprstatetest.Fake
}

// NewStore returns a store holding products, all listed in the catalog.
func NewStore(products ...inventory.Product) *Store {
	return NewStoreWith(nil, products...)
}

// NewStoreWith is NewStore with options of the store's
// optimistic-concurrency loop.
func NewStoreWith(opts []daprstate.Option, products ...inventory.Product) *Store {
	f := daprstatetest.New()
	s := &Store{Store: inventorystore.New(f, "inventory-state", opts...), Fake: f}
	ctx := context.Background()
	for _, p := range products {
		if err := s.InsertProduct(ctx, p); err != nil {
			panic(err) // a test's fixture is wrong
		}
		if err := s.AddToCatalog(ctx, p.SKU); err != nil {
			panic(err)
		}
	}
	return s
}

// Stored returns a product as stored, for assertions.
func (s *Store) Stored(sku string) (inventory.Product, bool) {
	p, err := s.Product(context.Background(), sku)
	return p, err == nil
}

// StoredReservation returns a reservation as stored, for assertions.
func (s *Store) StoredReservation(orderID string) (inventory.Reservation, bool) {
	r, err := s.Reservation(context.Background(), orderID)
	return r, err == nil
}

// Size is the length in bytes of a product's stored value.
func (s *Store) Size(sku string) int {
	return len(s.Fake.Keys()["product:"+sku])
}

// Listed reports whether the catalog index lists sku.
func (s *Store) Listed(sku string) bool {
	var skus []string
	if err := json.Unmarshal(s.Fake.Keys()["catalog"], &skus); err != nil {
		return false
	}
	return slices.Contains(skus, sku)
}

// Bump rewrites a product behind everyone's back (a new ETag, the same
// value), as a concurrent writer would. It runs no write hooks.
func (s *Store) Bump(sku string) {
	key := "product:" + sku
	v := s.Fake.Keys()[key]
	before, fail := s.Fake.BeforeWrite, s.Fake.FailWrite
	s.Fake.BeforeWrite, s.Fake.FailWrite = nil, nil
	defer func() { s.Fake.BeforeWrite, s.Fake.FailWrite = before, fail }()
	it, _ := s.Fake.GetState(context.Background(), "", key, nil)
	if err := s.Fake.SaveStateWithETag(context.Background(), "", key, v, it.Etag, nil); err != nil {
		panic(err)
	}
}

// Publisher records the outcomes published.
type Publisher struct {
	mu        sync.Mutex
	published []inventory.Reservation
	// Err, when set, is what PublishOutcome returns.
	Err error
}

// PublishOutcome implements inventory.Publisher.
func (p *Publisher) PublishOutcome(_ context.Context, r inventory.Reservation) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.Err != nil {
		return p.Err
	}
	if r.Outcome == inventory.OutcomeNone {
		return errors.New("fake publisher: no outcome to publish")
	}
	p.published = append(p.published, r)
	return nil
}

// Published returns what was published, in order.
func (p *Publisher) Published() []inventory.Reservation {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.published)
}
