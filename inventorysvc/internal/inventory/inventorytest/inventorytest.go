// Package inventorytest has in-memory fakes of what the inventory domain
// needs, for tests without a Dapr sidecar. The store behaves as the Dapr
// adapter promises: every write is of one key, guarded by the version it
// was read with (a stale one is inventory.ErrConflict) or inserted only if
// absent.
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

// Store is an in-memory inventory.Store with the semantics of the Dapr
// adapter: single-key writes, each guarded by the version it was read
// with or inserted only if absent.
type Store struct {
	mu           sync.Mutex
	version      int
	products     map[string]inventory.Product
	catalog      map[string]bool
	reservations map[string]inventory.Reservation

	// BeforeWrite, when set, runs before every write with the key about
	// to be written ("product:<sku>", "reservation:<order id>",
	// "catalog"), outside the store's lock: a test makes a concurrent
	// writer win there, or fails the write (a crash) by returning an
	// error, which the write then returns.
	BeforeWrite func(key string) error
	// Err, when set, is what every call returns.
	Err error
	// Writes counts the write calls.
	Writes int
}

// NewStore returns a store holding products, all listed in the catalog.
func NewStore(products ...inventory.Product) *Store {
	s := &Store{products: map[string]inventory.Product{}, catalog: map[string]bool{}, reservations: map[string]inventory.Reservation{}}
	for _, p := range products {
		s.put(p)
		s.catalog[p.SKU] = true
	}
	return s
}

func (s *Store) next() string {
	s.version++
	return strconv.Itoa(s.version)
}

func (s *Store) put(p inventory.Product) {
	p.Version = s.next()
	p.Log = slices.Clone(p.Log)
	s.products[p.SKU] = p
}

// Stored returns a product as stored, for assertions.
func (s *Store) Stored(sku string) (inventory.Product, bool) {
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

// Listed reports whether the catalog index lists sku.
func (s *Store) Listed(sku string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.catalog[sku]
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

// write runs BeforeWrite, then f under the lock.
func (s *Store) write(key string, f func() error) error {
	if s.BeforeWrite != nil {
		if err := s.BeforeWrite(key); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Writes++
	if s.Err != nil {
		return s.Err
	}
	return f()
}

// Product implements inventory.Store.
func (s *Store) Product(_ context.Context, sku string) (inventory.Product, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return inventory.Product{}, s.Err
	}
	p, ok := s.products[sku]
	if !ok {
		return p, fmt.Errorf("product %s: %w", sku, inventory.ErrNotFound)
	}
	p.Log = slices.Clone(p.Log)
	return p, nil
}

// Products implements inventory.Store.
func (s *Store) Products(_ context.Context, skus []string) (map[string]inventory.Product, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return nil, s.Err
	}
	products := map[string]inventory.Product{}
	for _, sku := range skus {
		if p, ok := s.products[sku]; ok {
			p.Log = slices.Clone(p.Log)
			products[sku] = p
		}
	}
	return products, nil
}

// List implements inventory.Store: the listed products that exist.
func (s *Store) List(_ context.Context, after string, limit int) (inventory.Page, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return inventory.Page{}, s.Err
	}
	var skus []string
	for sku := range s.catalog {
		if _, ok := s.products[sku]; ok && sku > after {
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

// InsertProduct implements inventory.Store.
func (s *Store) InsertProduct(_ context.Context, p inventory.Product) error {
	return s.write("product:"+p.SKU, func() error {
		if err := p.CheckInvariant(); err != nil {
			return fmt.Errorf("fake store refuses a broken product: %w", err)
		}
		if _, ok := s.products[p.SKU]; ok {
			return fmt.Errorf("product %s: %w", p.SKU, inventory.ErrExists)
		}
		s.put(p)
		return nil
	})
}

// SaveProduct implements inventory.Store.
func (s *Store) SaveProduct(_ context.Context, p inventory.Product) error {
	return s.write("product:"+p.SKU, func() error {
		if err := p.CheckInvariant(); err != nil {
			return fmt.Errorf("fake store refuses a broken product: %w", err)
		}
		cur, ok := s.products[p.SKU]
		if !ok || p.Version == "" || cur.Version != p.Version {
			return fmt.Errorf("product %s: %w", p.SKU, inventory.ErrConflict)
		}
		s.put(p)
		return nil
	})
}

// AddToCatalog implements inventory.Store.
func (s *Store) AddToCatalog(_ context.Context, skus ...string) error {
	return s.write("catalog", func() error {
		for _, sku := range skus {
			s.catalog[sku] = true
		}
		return nil
	})
}

// Reservation implements inventory.Store.
func (s *Store) Reservation(_ context.Context, orderID string) (inventory.Reservation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return inventory.Reservation{}, s.Err
	}
	r, ok := s.reservations[orderID]
	if !ok {
		return r, fmt.Errorf("reservation of order %s: %w", orderID, inventory.ErrNotFound)
	}
	r.Lines = slices.Clone(r.Lines)
	r.Rejections = slices.Clone(r.Rejections)
	return r, nil
}

// SaveReservation implements inventory.Store.
func (s *Store) SaveReservation(_ context.Context, r inventory.Reservation) error {
	return s.write("reservation:"+r.OrderID, func() error {
		cur, ok := s.reservations[r.OrderID]
		if ok != (r.Version != "") || (ok && cur.Version != r.Version) {
			return fmt.Errorf("reservation %s: %w", r.OrderID, inventory.ErrConflict)
		}
		r.Version = s.next()
		r.Lines = slices.Clone(r.Lines)
		r.Rejections = slices.Clone(r.Rejections)
		s.reservations[r.OrderID] = r
		return nil
	})
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
