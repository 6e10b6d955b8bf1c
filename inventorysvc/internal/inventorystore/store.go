// Package inventorystore keeps products in a Dapr state store, through the
// sidecar. Every write uses first-write concurrency with ETags.
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
	ExecuteStateTransaction(ctx context.Context, storeName string, meta map[string]string, ops []*dapr.StateOperation) error
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

var firstWrite = &dapr.StateOptions{Concurrency: dapr.StateConcurrencyFirstWrite, Consistency: dapr.StateConsistencyStrong}

// Get returns one product.
func (s *Store) Get(ctx context.Context, sku string) (inventory.Product, error) {
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
	return p, nil
}

// List returns up to limit products after the given SKU, in SKU order.
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
			return page, fmt.Errorf("catalog lists %s but it is missing", key)
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

// Seed writes products and the catalog in one transaction, only when no
// catalog exists yet. First-write concurrency without an ETag makes every
// write an insert, so two replicas seeding at once cannot both win.
func (s *Store) Seed(ctx context.Context, products []inventory.Product) error {
	skus, _, err := s.catalog(ctx)
	if err != nil {
		return err
	}
	if len(skus) > 0 {
		return fmt.Errorf("seed: %w", inventory.ErrExists)
	}
	skus = make([]string, 0, len(products))
	ops := make([]*dapr.StateOperation, 0, len(products)+1)
	for _, p := range products {
		v, err := json.Marshal(p)
		if err != nil {
			return fmt.Errorf("encode product %s: %w", p.SKU, err)
		}
		ops = append(ops, upsert(productKey(p.SKU), v, ""))
		skus = append(skus, p.SKU)
	}
	slices.Sort(skus)
	v, err := json.Marshal(skus)
	if err != nil {
		return fmt.Errorf("encode catalog: %w", err)
	}
	ops = append(ops, upsert(catalogKey, v, ""))
	if err := s.client.ExecuteStateTransaction(ctx, s.name, nil, ops); err != nil {
		return fmt.Errorf("seed: %w", translate(err))
	}
	return nil
}

// Create inserts p and adds its SKU to the catalog, in one transaction:
// the product is inserted only if absent, the catalog is written with the
// ETag it was read with (or inserted, when there is none yet). A lost race
// for the catalog is inventory.ErrConflict; the caller reads again and
// retries. A product that exists is inventory.ErrExists.
func (s *Store) Create(ctx context.Context, p inventory.Product) error {
	if err := p.CheckInvariant(); err != nil {
		return fmt.Errorf("create: %w", err)
	}
	if _, err := s.Get(ctx, p.SKU); err == nil {
		return fmt.Errorf("product %s: %w", p.SKU, inventory.ErrExists)
	} else if !errors.Is(err, inventory.ErrNotFound) {
		return err
	}
	skus, etag, err := s.catalog(ctx)
	if err != nil {
		return err
	}
	i, found := slices.BinarySearch(skus, p.SKU)
	if found {
		// Created by someone else since the read above: product and
		// catalog are only ever written together.
		return fmt.Errorf("product %s: %w", p.SKU, inventory.ErrExists)
	}
	skus = slices.Insert(skus, i, p.SKU)
	catalog, err := json.Marshal(skus)
	if err != nil {
		return fmt.Errorf("encode catalog: %w", err)
	}
	value, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encode product %s: %w", p.SKU, err)
	}
	ops := []*dapr.StateOperation{upsert(productKey(p.SKU), value, ""), upsert(catalogKey, catalog, etag)}
	if err := s.client.ExecuteStateTransaction(ctx, s.name, nil, ops); err != nil {
		return fmt.Errorf("create product %s: %w", p.SKU, translate(err))
	}
	return nil
}

// Load reads the products with the given SKUs and the reservation of
// orderID (when not empty) in one bulk read, with their ETags.
func (s *Store) Load(ctx context.Context, orderID string, skus []string) (map[string]inventory.Product, *inventory.Reservation, error) {
	products := make(map[string]inventory.Product, len(skus))
	keys := make([]string, 0, len(skus)+1)
	if orderID != "" {
		keys = append(keys, reservationKey(orderID))
	}
	for _, sku := range skus {
		keys = append(keys, productKey(sku))
	}
	if len(keys) == 0 {
		return products, nil, nil
	}
	items, err := s.client.GetBulkState(ctx, s.name, keys, nil, 8)
	if err != nil {
		return nil, nil, fmt.Errorf("get %d keys: %w", len(keys), err)
	}
	var r *inventory.Reservation
	for _, it := range items {
		if it.Error != "" {
			return nil, nil, fmt.Errorf("get %s: %s", it.Key, it.Error)
		}
		if len(it.Value) == 0 {
			continue
		}
		switch {
		case orderID != "" && it.Key == reservationKey(orderID):
			r = &inventory.Reservation{}
			if err := json.Unmarshal(it.Value, r); err != nil {
				return nil, nil, fmt.Errorf("decode %s: %w", it.Key, err)
			}
			r.Version = it.Etag
		default:
			var p inventory.Product
			if err := json.Unmarshal(it.Value, &p); err != nil {
				return nil, nil, fmt.Errorf("decode %s: %w", it.Key, err)
			}
			p.Version = it.Etag
			products[p.SKU] = p
		}
	}
	return products, r, nil
}

// Save writes products and r in one transaction, each guarded by the ETag
// it was read with; r without one is inserted only if absent. Products are
// only ever inserted by Create and Seed, so one without an ETag is a bug,
// and so is one whose stock does not add up: neither is written.
//
// A reservation spans several keys, so Save needs transactions that are
// all or nothing even when one ETag is stale. state.in-memory checks every
// ETag before applying any (components-contrib v1.14.4). state.redis does
// not: its Multi sends one guarded EVAL per key inside MULTI/EXEC, and a
// stale ETag fails only that key's command while the others apply; nor
// does it pass the first-write flag there, so an insert without an ETag
// overwrites a key that an earlier transaction wrote. Cover both in store
// contract tests before a Redis profile carries inventory state.
func (s *Store) Save(ctx context.Context, products []inventory.Product, r *inventory.Reservation) error {
	ops := make([]*dapr.StateOperation, 0, len(products)+1)
	for _, p := range products {
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
		ops = append(ops, upsert(productKey(p.SKU), v, p.Version))
	}
	if r != nil {
		v, err := json.Marshal(r)
		if err != nil {
			return fmt.Errorf("encode reservation %s: %w", r.OrderID, err)
		}
		ops = append(ops, upsert(reservationKey(r.OrderID), v, r.Version))
	}
	if len(ops) == 0 {
		return nil
	}
	if err := s.client.ExecuteStateTransaction(ctx, s.name, nil, ops); err != nil {
		return fmt.Errorf("save %d keys: %w", len(ops), translate(err))
	}
	return nil
}

// upsert is a transactional write of key, guarded by etag (an insert when
// etag is empty).
func upsert(key string, value []byte, etag string) *dapr.StateOperation {
	item := &dapr.SetStateItem{Key: key, Value: value, Options: firstWrite}
	if etag != "" {
		item.Etag = &dapr.ETag{Value: etag}
	}
	return &dapr.StateOperation{Type: dapr.StateOperationTypeUpsert, Item: item}
}

// translate maps a store's concurrency answer to inventory.ErrConflict.
func translate(err error) error {
	if daprstate.IsConflict(err) {
		return errors.Join(inventory.ErrConflict, err)
	}
	return err
}
