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
