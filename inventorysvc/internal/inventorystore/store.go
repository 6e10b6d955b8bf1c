// Package inventorystore keeps products, the catalog index and
// reservations in a Dapr state store, through the sidecar.
//
// Every write is a single-key write with first-write concurrency: guarded
// by the ETag the value was read with, or inserted only if absent when it
// has none. None is a multi-key transaction, on purpose: e2e/contract_test.go
// measures that state.redis (daprd 1.14) does not apply a transaction all
// or nothing. It runs one guarded EVAL per key inside MULTI/EXEC, so a
// stale ETag fails only that key while the other keys are written, and it
// does not enforce insert-if-absent inside a transaction. Single-key
// writes keep their guarantees on every store. An order that spans
// products is therefore a state machine on its reservation record, moved
// by guarded single-key writes, and idempotent steps on each product,
// which remembers the steps applied to it (inventory.Step); a product is
// inserted, then listed in the catalog index (an idempotent set-add).
package inventorystore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	dapr "github.com/dapr/go-sdk/client"

	"shop/inventorysvc/internal/inventory"
	"shop/platform/daprstate"
)

// StateClient is the part of the Dapr client the store calls.
type StateClient interface {
	GetState(ctx context.Context, storeName, key string, meta map[string]string) (*dapr.StateItem, error)
	GetBulkState(ctx context.Context, storeName string, keys []string, meta map[string]string, parallelism int32) ([]*dapr.BulkStateItem, error)
	SaveState(ctx context.Context, storeName, key string, data []byte, meta map[string]string, so ...dapr.StateOption) error
	SaveStateWithETag(ctx context.Context, storeName, key string, data []byte, etag string, meta map[string]string, so ...dapr.StateOption) error
}

// catalogKey holds the sorted list of every SKU: the state stores of every
// profile can read a key, but not all of them can query.
const catalogKey = "catalog"

func productKey(sku string) string { return "product:" + sku }

func reservationKey(orderID string) string { return "reservation:" + orderID }

// Store implements inventory.Store on a Dapr state store.
type Store struct {
	client StateClient
	name   string
}

// New returns a store on the Dapr state store component called name.
func New(client StateClient, name string) *Store {
	return &Store{client: client, name: name}
}

var firstWrite = []dapr.StateOption{
	dapr.WithConcurrency(dapr.StateConcurrencyFirstWrite),
	dapr.WithConsistency(dapr.StateConsistencyStrong),
}

// Product returns one product, with its ETag as its version.
func (s *Store) Product(ctx context.Context, sku string) (inventory.Product, error) {
	var p inventory.Product
	item, err := s.client.GetState(ctx, s.name, productKey(sku), nil)
	if err != nil {
		return p, fmt.Errorf("get product %s: %w", sku, err)
	}
	if len(item.Value) == 0 {
		return p, fmt.Errorf("product %s: %w", sku, inventory.ErrNotFound)
	}
	if err := json.Unmarshal(item.Value, &p); err != nil {
		return p, fmt.Errorf("decode product %s: %w", sku, err)
	}
	p.Version = item.Etag
	return p, nil
}

// Products reads the products with the given SKUs in one bulk read, with
// their ETags; those that do not exist are not in the map.
func (s *Store) Products(ctx context.Context, skus []string) (map[string]inventory.Product, error) {
	products := make(map[string]inventory.Product, len(skus))
	if len(skus) == 0 {
		return products, nil
	}
	keys := make([]string, 0, len(skus))
	for _, sku := range skus {
		keys = append(keys, productKey(sku))
	}
	items, err := s.client.GetBulkState(ctx, s.name, keys, nil, 8)
	if err != nil {
		return nil, fmt.Errorf("get %d products: %w", len(keys), err)
	}
	for _, it := range items {
		if it.Error != "" {
			return nil, fmt.Errorf("get %s: %s", it.Key, it.Error)
		}
		if len(it.Value) == 0 {
			continue
		}
		var p inventory.Product
		if err := json.Unmarshal(it.Value, &p); err != nil {
			return nil, fmt.Errorf("decode %s: %w", it.Key, err)
		}
		p.Version = it.Etag
		products[p.SKU] = p
	}
	return products, nil
}

// List returns up to limit products after the given SKU, in SKU order. A
// SKU that is listed but whose product is missing is skipped: a create
// that failed between its two writes never answered 201 (the catalog is
// written after the product, so this is not expected, but a listing must
// not fail for one bad entry).
func (s *Store) List(ctx context.Context, after string, limit int) (inventory.Page, error) {
	skus, _, err := s.catalog(ctx)
	if err != nil {
		return inventory.Page{}, err
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
	keys := make([]string, 0, end-start)
	for _, sku := range skus[start:end] {
		keys = append(keys, productKey(sku))
	}
	items, err := s.client.GetBulkState(ctx, s.name, keys, nil, 8)
	if err != nil {
		return page, fmt.Errorf("get products: %w", err)
	}
	byKey := make(map[string][]byte, len(items))
	for _, it := range items {
		if it.Error != "" {
			return page, fmt.Errorf("get product %s: %s", it.Key, it.Error)
		}
		byKey[it.Key] = it.Value
	}
	for _, key := range keys {
		var p inventory.Product
		if len(byKey[key]) == 0 {
			continue
		}
		if err := json.Unmarshal(byKey[key], &p); err != nil {
			return page, fmt.Errorf("decode %s: %w", key, err)
		}
		page.Products = append(page.Products, p)
	}
	if end < len(skus) {
		page.Next = skus[end-1]
	}
	return page, nil
}

// catalog reads the sorted SKU list and its ETag ("" when absent).
func (s *Store) catalog(ctx context.Context) ([]string, string, error) {
	item, err := s.client.GetState(ctx, s.name, catalogKey, nil)
	if err != nil {
		return nil, "", fmt.Errorf("get catalog: %w", err)
	}
	if len(item.Value) == 0 {
		return nil, "", nil
	}
	var skus []string
	if err := json.Unmarshal(item.Value, &skus); err != nil {
		return nil, "", fmt.Errorf("decode catalog: %w", err)
	}
	return skus, item.Etag, nil
}

// InsertProduct stores p only if no product has its SKU: a first write
// without an ETag; ErrExists when one has.
func (s *Store) InsertProduct(ctx context.Context, p inventory.Product) error {
	if err := p.CheckInvariant(); err != nil {
		return fmt.Errorf("insert: %w", err)
	}
	v, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encode product %s: %w", p.SKU, err)
	}
	err = s.client.SaveState(ctx, s.name, productKey(p.SKU), v, nil, firstWrite...)
	if daprstate.IsConflict(err) {
		return fmt.Errorf("product %s: %w", p.SKU, errors.Join(inventory.ErrExists, err))
	}
	if err != nil {
		return fmt.Errorf("insert product %s: %w", p.SKU, err)
	}
	return nil
}

// SaveProduct writes an existing product guarded by the ETag it was read
// with. Products are only ever inserted by InsertProduct, so one without
// an ETag is a bug, and so is one whose stock does not add up: neither is
// written.
func (s *Store) SaveProduct(ctx context.Context, p inventory.Product) error {
	if p.Version == "" {
		return fmt.Errorf("save product %s: no version to guard the write", p.SKU)
	}
	if err := p.CheckInvariant(); err != nil {
		return fmt.Errorf("save: %w", err)
	}
	v, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encode product %s: %w", p.SKU, err)
	}
	if err := s.client.SaveStateWithETag(ctx, s.name, productKey(p.SKU), v, p.Version, nil, firstWrite...); err != nil {
		return fmt.Errorf("save product %s: %w", p.SKU, translate(err))
	}
	return nil
}

// AddToCatalog adds skus to the sorted catalog index, guarded by the ETag
// it was read with (or inserted, when there is none yet). SKUs that are
// listed already change nothing; a lost race is inventory.ErrConflict, and
// the caller reads again and retries.
func (s *Store) AddToCatalog(ctx context.Context, skus ...string) error {
	listed, etag, err := s.catalog(ctx)
	if err != nil {
		return err
	}
	changed := false
	for _, sku := range skus {
		if i, found := slices.BinarySearch(listed, sku); !found {
			listed = slices.Insert(listed, i, sku)
			changed = true
		}
	}
	if !changed {
		return nil
	}
	v, err := json.Marshal(listed)
	if err != nil {
		return fmt.Errorf("encode catalog: %w", err)
	}
	if err := s.save(ctx, catalogKey, v, etag); err != nil {
		return fmt.Errorf("list %v: %w", skus, err)
	}
	return nil
}

// Reservation reads an order's reservation, with its ETag as its version.
func (s *Store) Reservation(ctx context.Context, orderID string) (inventory.Reservation, error) {
	var r inventory.Reservation
	item, err := s.client.GetState(ctx, s.name, reservationKey(orderID), nil)
	if err != nil {
		return r, fmt.Errorf("get reservation %s: %w", orderID, err)
	}
	if len(item.Value) == 0 {
		return r, fmt.Errorf("reservation of order %s: %w", orderID, inventory.ErrNotFound)
	}
	if err := json.Unmarshal(item.Value, &r); err != nil {
		return r, fmt.Errorf("decode reservation %s: %w", orderID, err)
	}
	r.Version = item.Etag
	return r, nil
}

// SaveReservation writes r guarded by the ETag it was read with, or
// inserts it only if absent when it has none; a lost race either way is
// inventory.ErrConflict.
func (s *Store) SaveReservation(ctx context.Context, r inventory.Reservation) error {
	v, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode reservation %s: %w", r.OrderID, err)
	}
	if err := s.save(ctx, reservationKey(r.OrderID), v, r.Version); err != nil {
		return fmt.Errorf("save reservation %s: %w", r.OrderID, err)
	}
	return nil
}

// save writes one key, guarded by etag, or inserted only if absent when
// etag is empty.
func (s *Store) save(ctx context.Context, key string, value []byte, etag string) error {
	var err error
	if etag == "" {
		err = s.client.SaveState(ctx, s.name, key, value, nil, firstWrite...)
	} else {
		err = s.client.SaveStateWithETag(ctx, s.name, key, value, etag, nil, firstWrite...)
	}
	return translate(err)
}

// translate maps a store's concurrency answer to inventory.ErrConflict.
func translate(err error) error {
	if daprstate.IsConflict(err) {
		return errors.Join(inventory.ErrConflict, err)
	}
	return err
}
