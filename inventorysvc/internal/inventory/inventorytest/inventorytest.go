// Package inventorytest has in-memory fakes of what the inventory domain
// needs, for tests without a Dapr sidecar. The store behaves as the Dapr
// adapter promises: every write is guarded by the version it was read with,
// and a stale one is inventory.ErrConflict.
package inventorytest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"

	"shop/inventorysvc/internal/inventory"
)

// Store is an in-memory inventory.Store.
type Store struct {
	mu           sync.Mutex
	version      int
	products     map[string]inventory.Product
	reservations map[string]inventory.Reservation

	// BeforeWrite, when set, runs before every Create and Save, outside
	// the store's lock: a test makes a concurrent writer win there.
	BeforeWrite func()
	// Err, when set, is what every call returns.
	Err error
	// Loads and Writes count the calls.
	Loads, Writes int
}

// NewStore returns a store holding products.
func NewStore(products ...inventory.Product) *Store {
	s := &Store{products: map[string]inventory.Product{}, reservations: map[string]inventory.Reservation{}}
	for _, p := range products {
		s.put(p)
	}
	return s
}

func (s *Store) next() string {
	s.version++
	return strconv.Itoa(s.version)
}

func (s *Store) put(p inventory.Product) {
	p.Version = s.next()
	s.products[p.SKU] = p
}

// Product returns a product as stored, for assertions.
func (s *Store) Product(sku string) (inventory.Product, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.products[sku]
	return p, ok
}

// StoredReservation returns a reservation as stored, for assertions.
func (s *Store) StoredReservation(orderID string) (inventory.Reservation, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.reservations[orderID]
	return r, ok
}

// Bump changes a product behind everyone's back (a new version with the
// same stock), as a concurrent writer would.
func (s *Store) Bump(sku string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.products[sku]; ok {
		s.put(p)
	}
}

// Get implements inventory.Store.
func (s *Store) Get(_ context.Context, sku string) (inventory.Product, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return inventory.Product{}, s.Err
	}
	p, ok := s.products[sku]
	if !ok {
		return p, fmt.Errorf("product %s: %w", sku, inventory.ErrNotFound)
	}
	return p, nil
}

// List implements inventory.Store.
func (s *Store) List(_ context.Context, after string, limit int) (inventory.Page, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return inventory.Page{}, s.Err
	}
	var skus []string
	for sku := range s.products {
		if sku > after {
			skus = append(skus, sku)
		}
	}
	slices.Sort(skus)
	page := inventory.Page{Products: []inventory.Product{}}
	for i, sku := range skus {
		if i == limit {
			page.Next = skus[i-1]
			break
		}
		page.Products = append(page.Products, s.products[sku])
	}
	return page, nil
}

// Seed implements inventory.Store.
func (s *Store) Seed(_ context.Context, products []inventory.Product) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return s.Err
	}
	if len(s.products) > 0 {
		return inventory.ErrExists
	}
	for _, p := range products {
		s.put(p)
	}
	return nil
}

// Create implements inventory.Store.
func (s *Store) Create(_ context.Context, p inventory.Product) error {
	if s.BeforeWrite != nil {
		s.BeforeWrite()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Writes++
	if s.Err != nil {
		return s.Err
	}
	if _, ok := s.products[p.SKU]; ok {
		return fmt.Errorf("product %s: %w", p.SKU, inventory.ErrExists)
	}
	s.put(p)
	return nil
}

// Load implements inventory.Store.
func (s *Store) Load(_ context.Context, orderID string, skus []string) (map[string]inventory.Product, *inventory.Reservation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Loads++
	if s.Err != nil {
		return nil, nil, s.Err
	}
	products := map[string]inventory.Product{}
	for _, sku := range skus {
		if p, ok := s.products[sku]; ok {
			products[sku] = p
		}
	}
	var r *inventory.Reservation
	if orderID != "" {
		if got, ok := s.reservations[orderID]; ok {
			r = &got
			r.Lines = slices.Clone(got.Lines)
			r.Rejections = slices.Clone(got.Rejections)
		}
	}
	return products, r, nil
}

// Save implements inventory.Store: all or nothing, each value guarded by
// its version.
func (s *Store) Save(_ context.Context, products []inventory.Product, r *inventory.Reservation) error {
	if s.BeforeWrite != nil {
		s.BeforeWrite()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Writes++
	if s.Err != nil {
		return s.Err
	}
	for _, p := range products {
		if err := p.CheckInvariant(); err != nil {
			return fmt.Errorf("fake store refuses a broken product: %w", err)
		}
		cur, ok := s.products[p.SKU]
		if !ok || p.Version == "" || cur.Version != p.Version {
			return fmt.Errorf("product %s: %w", p.SKU, inventory.ErrConflict)
		}
	}
	if r != nil {
		cur, ok := s.reservations[r.OrderID]
		if ok != (r.Version != "") || (ok && cur.Version != r.Version) {
			return fmt.Errorf("reservation %s: %w", r.OrderID, inventory.ErrConflict)
		}
	}
	for _, p := range products {
		s.put(p)
	}
	if r != nil {
		stored := *r
		stored.Version = s.next()
		s.reservations[r.OrderID] = stored
	}
	return nil
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
	r.Version = ""
	p.published = append(p.published, r)
	return nil
}

// Published returns what was published, in order.
func (p *Publisher) Published() []inventory.Reservation {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.published)
}
