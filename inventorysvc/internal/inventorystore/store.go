// Package inventorystore keeps products, the catalog index and
// reservations in a Dapr state store, through the sidecar, with the shared
// optimistic-concurrency helper of platform/daprstate. The ETags stay in
// here: the domain sees updates with a callback (inventory.Store).
//
// Every write is a single-key write with first-write concurrency: guarded
// by the ETag the value was read with, or inserted only if absent. None is
// a multi-key transaction, on purpose: state.redis does not apply one all
// or nothing (e2e/contract_test.go checks, on every profile, that a
// transaction with a stale ETag is rolled back everywhere but on Redis,
// where its other keys are written). Single-key writes keep their
// guarantees on every store (the same test checks insert-if-absent and
// stale ETags through a real sidecar). An order that spans products is
// therefore a state machine on its reservation, moved by guarded single-key
// writes, and steps on each product that are applied at most once by the
// order of their writes (inventory.Step); a product is inserted, then
// listed in the catalog index (an idempotent set-add).
//
// Keys:
//
//	product:<sku>        a product, its stock and its marks of steps in flight
//	reservation:<order>  what the inventory did for an order
//	catalog              the sorted list of every SKU
package inventorystore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"

	dapr "github.com/dapr/go-sdk/client"

	"shop/inventorysvc/internal/inventory"
	"shop/platform/daprstate"
)

// catalogKey holds the sorted list of every SKU: the state stores of every
// profile can read a key, but not all of them can query.
const catalogKey = "catalog"

const (
	productPrefix     = "product:"
	reservationPrefix = "reservation:"
)

func productKey(sku string) string { return productPrefix + sku }

func reservationKey(orderID string) string { return reservationPrefix + orderID }

// Store implements inventory.Store on a Dapr state store.
type Store struct {
	state    *daprstate.Store
	counting *counting
}

// New returns a store on the Dapr state store component called name;
// opts tune the optimistic-concurrency loop (daprstate.WithAttempts).
func New(client daprstate.Client, name string, opts ...daprstate.Option) *Store {
	c := &counting{Client: client}
	return &Store{state: daprstate.New(c, name, opts...), counting: c}
}

// Conflicts counts the guarded writes that lost an optimistic-concurrency
// race (inventory.ConflictCounter); each was tried again from a fresh read
// while the update had attempts left.
func (s *Store) Conflicts() int64 { return s.counting.conflicts.Load() }

// counting counts the writes guarded by an ETag that the store answers
// with a conflict (an insert that finds its key taken is an answer, not a
// race to retry: ErrExists).
type counting struct {
	daprstate.Client
	conflicts atomic.Int64
}

func (c *counting) SaveStateWithETag(ctx context.Context, store, key string, data []byte, etag string, meta map[string]string, so ...dapr.StateOption) error {
	err := c.Client.SaveStateWithETag(ctx, store, key, data, etag, meta, so...)
	if etag != "" && daprstate.IsConflict(err) {
		c.conflicts.Add(1)
	}
	return err
}

func (c *counting) DeleteStateWithETag(ctx context.Context, store, key string, etag *dapr.ETag, meta map[string]string, opts *dapr.StateOptions) error {
	err := c.Client.DeleteStateWithETag(ctx, store, key, etag, meta, opts)
	if daprstate.IsConflict(err) {
		c.conflicts.Add(1)
	}
	return err
}

// translate maps daprstate's lost race to inventory.ErrConflict, and an
// update function's inventory.ErrUnchanged to daprstate's: the one place
// where the store's errors become the domain's.
func translate(err error) error {
	if errors.Is(err, daprstate.ErrConflict) {
		return errors.Join(inventory.ErrConflict, err)
	}
	return err
}

func unchanged(err error) error {
	if errors.Is(err, inventory.ErrUnchanged) {
		return daprstate.ErrUnchanged
	}
	return err
}

// Product returns one product.
func (s *Store) Product(ctx context.Context, sku string) (inventory.Product, error) {
	p, found, err := daprstate.Get[inventory.Product](ctx, s.state, productKey(sku))
	if err != nil {
		return p, fmt.Errorf("product %s: %w", sku, err)
	}
	if !found {
		return p, fmt.Errorf("product %s: %w", sku, inventory.ErrNotFound)
	}
	return p, nil
}

// Products reads the products with the given SKUs in one bulk read; those
// that do not exist are not in the map.
func (s *Store) Products(ctx context.Context, skus []string) (map[string]inventory.Product, error) {
	keys := make([]string, 0, len(skus))
	for _, sku := range skus {
		keys = append(keys, productKey(sku))
	}
	byKey, err := daprstate.GetBulk[inventory.Product](ctx, s.state, keys)
	if err != nil {
		return nil, fmt.Errorf("products: %w", err)
	}
	products := make(map[string]inventory.Product, len(byKey))
	for key, p := range byKey {
		products[strings.TrimPrefix(key, productPrefix)] = p
	}
	return products, nil
}

// List returns up to limit products after the given SKU, in SKU order. A
// SKU that is listed but whose product is missing is skipped: a create
// that failed between its two writes never answered 201 (the catalog is
// written after the product, so this is not expected, but a listing must
// not fail for one bad entry).
func (s *Store) List(ctx context.Context, after string, limit int) (inventory.Page, error) {
	skus, _, err := daprstate.Get[[]string](ctx, s.state, catalogKey)
	if err != nil {
		return inventory.Page{}, fmt.Errorf("catalog: %w", err)
	}
	start, _ := slices.BinarySearch(skus, after)
	if start < len(skus) && skus[start] == after {
		start++
	}
	end := min(start+limit, len(skus))
	page := inventory.Page{Products: []inventory.Product{}}
	if start >= end {
		return page, nil
	}
	products, err := s.Products(ctx, skus[start:end])
	if err != nil {
		return page, err
	}
	for _, sku := range skus[start:end] {
		if p, ok := products[sku]; ok {
			page.Products = append(page.Products, p)
		}
	}
	if end < len(skus) {
		page.Next = skus[end-1]
	}
	return page, nil
}

// InsertProduct stores p only if no product has its SKU: a first write
// without an ETag; ErrExists when one has.
func (s *Store) InsertProduct(ctx context.Context, p inventory.Product) error {
	if err := p.CheckInvariant(); err != nil {
		return fmt.Errorf("insert: %w", err)
	}
	err := daprstate.Insert(ctx, s.state, productKey(p.SKU), p)
	if errors.Is(err, daprstate.ErrConflict) {
		return fmt.Errorf("product %s: %w", p.SKU, errors.Join(inventory.ErrExists, err))
	}
	if err != nil {
		return fmt.Errorf("insert product %s: %w", p.SKU, err)
	}
	return nil
}

// UpdateProduct updates an existing product with fn, guarded by the ETag
// it was read with. Products are only ever inserted by InsertProduct: an
// absent one is inventory.ErrNotFound, and one whose stock would not add
// up is not written.
func (s *Store) UpdateProduct(ctx context.Context, sku string, fn func(p *inventory.Product) error) (inventory.Product, error) {
	p, err := daprstate.Update(ctx, s.state, productKey(sku), func(p *inventory.Product, found bool) error {
		if !found {
			return fmt.Errorf("product %s: %w", sku, inventory.ErrNotFound)
		}
		if err := fn(p); err != nil {
			return unchanged(err)
		}
		if err := p.CheckInvariant(); err != nil {
			return fmt.Errorf("save: %w", err)
		}
		return nil
	})
	if err != nil {
		return p, fmt.Errorf("update product %s: %w", sku, translate(err))
	}
	return p, nil
}

// AddToCatalog adds skus to the sorted catalog index, guarded by the ETag
// it was read with (or inserted, when there is none yet). SKUs that are
// listed already change nothing.
func (s *Store) AddToCatalog(ctx context.Context, skus ...string) error {
	_, err := daprstate.Update(ctx, s.state, catalogKey, func(listed *[]string, _ bool) error {
		changed := false
		for _, sku := range skus {
			if i, found := slices.BinarySearch(*listed, sku); !found {
				*listed = slices.Insert(*listed, i, sku)
				changed = true
			}
		}
		if !changed {
			return daprstate.ErrUnchanged
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("list %v: %w", skus, translate(err))
	}
	return nil
}

// Reservation reads an order's reservation.
func (s *Store) Reservation(ctx context.Context, orderID string) (inventory.Reservation, error) {
	r, found, err := daprstate.Get[inventory.Reservation](ctx, s.state, reservationKey(orderID))
	if err != nil {
		return r, fmt.Errorf("reservation of order %s: %w", orderID, err)
	}
	if !found {
		return r, fmt.Errorf("reservation of order %s: %w", orderID, inventory.ErrNotFound)
	}
	return r, nil
}

// InsertReservation stores r only if the order has no reservation: a
// first write without an ETag; ErrExists when it has.
func (s *Store) InsertReservation(ctx context.Context, r inventory.Reservation) error {
	err := daprstate.Insert(ctx, s.state, reservationKey(r.OrderID), r)
	if errors.Is(err, daprstate.ErrConflict) {
		return fmt.Errorf("reservation of order %s: %w", r.OrderID, errors.Join(inventory.ErrExists, err))
	}
	if err != nil {
		return fmt.Errorf("insert reservation of order %s: %w", r.OrderID, err)
	}
	return nil
}

// Reservations reads the reservations of the given orders in one bulk
// read; those that do not exist are not in the map.
func (s *Store) Reservations(ctx context.Context, orderIDs []string) (map[string]inventory.Reservation, error) {
	keys := make([]string, 0, len(orderIDs))
	for _, id := range orderIDs {
		keys = append(keys, reservationKey(id))
	}
	byKey, err := daprstate.GetBulk[inventory.Reservation](ctx, s.state, keys)
	if err != nil {
		return nil, fmt.Errorf("reservations: %w", err)
	}
	out := make(map[string]inventory.Reservation, len(byKey))
	for key, r := range byKey {
		out[strings.TrimPrefix(key, reservationPrefix)] = r
	}
	return out, nil
}

// UpdateReservation updates an order's reservation with fn, guarded by the
// ETag it was read with, or inserts what fn made of the zero value, only if
// still absent, when there is none.
func (s *Store) UpdateReservation(ctx context.Context, orderID string, fn func(r *inventory.Reservation, found bool) error) (inventory.Reservation, error) {
	r, err := daprstate.Update(ctx, s.state, reservationKey(orderID), func(r *inventory.Reservation, found bool) error {
		return unchanged(fn(r, found))
	})
	if err != nil {
		return r, fmt.Errorf("update reservation of order %s: %w", orderID, translate(err))
	}
	return r, nil
}
