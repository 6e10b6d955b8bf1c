// Package orderstore keeps orders in a Dapr state store, through the
// sidecar. Every write is guarded by an ETag (first-write concurrency);
// writes that start the saga go through the store's transactional outbox.
package orderstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"sort"
	"time"

	dapr "github.com/dapr/go-sdk/client"

	"shop/ordersvc/internal/order"
	"shop/platform/daprstate"
)

// StateClient is the part of the Dapr client the store calls.
type StateClient interface {
	GetState(ctx context.Context, storeName, key string, meta map[string]string) (*dapr.StateItem, error)
	GetBulkState(ctx context.Context, storeName string, keys []string, meta map[string]string, parallelism int32) ([]*dapr.BulkStateItem, error)
	SaveStateWithETag(ctx context.Context, storeName, key string, data []byte, etag string, meta map[string]string, so ...dapr.StateOption) error
	ExecuteStateTransaction(ctx context.Context, storeName string, meta map[string]string, ops []*dapr.StateOperation) error
}

// Shards of the indexes every order is in: one hot key would make every
// order creation conflict with every other.
const shards = 16

// maxAttempts bounds the optimistic-concurrency retries of one write.
const maxAttempts = 50

func orderKey(id string) string         { return "order:" + id }
func userIndexKey(userID string) string { return "user-orders:" + userID }
func allIndexKey(shard int) string      { return fmt.Sprintf("all-orders:%02d", shard) }
func pendingKey(shard int) string       { return fmt.Sprintf("pending-orders:%02d", shard) }
func idemKey(userID, key string) string { return "idempotency:" + userID + ":" + key }
func shardOf(id string) int             { h := fnv.New32a(); h.Write([]byte(id)); return int(h.Sum32() % shards) }

// Store implements order.Store on a Dapr state store whose component has
// outbox metadata (outboxPublishPubsub, outboxPublishTopic). The outbox
// publishes every write made through the transaction API, so only writes
// that carry an event use it; all others are plain ETag-guarded saves.
type Store struct {
	client StateClient
	name   string
}

// New returns a store on the Dapr state store component called name.
func New(client StateClient, name string) *Store {
	return &Store{client: client, name: name}
}

var firstWrite = &dapr.StateOptions{Concurrency: dapr.StateConcurrencyFirstWrite, Consistency: dapr.StateConsistencyStrong}

func upsert(key string, value []byte, etag string) *dapr.StateOperation {
	item := &dapr.SetStateItem{Key: key, Value: value, Options: firstWrite}
	if etag != "" {
		item.Etag = &dapr.ETag{Value: etag}
	}
	return &dapr.StateOperation{Type: dapr.StateOperationTypeUpsert, Item: item}
}

// projection shapes the outbox event of the write to key: it is published
// instead of the stored value, and not stored.
func projection(key string, event any) (*dapr.StateOperation, error) {
	b, err := json.Marshal(event)
	if err != nil {
		return nil, fmt.Errorf("encode event: %w", err)
	}
	return &dapr.StateOperation{Type: dapr.StateOperationTypeUpsert, Item: &dapr.SetStateItem{
		Key: key, Value: b, Metadata: map[string]string{"outbox.projection": "true"},
	}}, nil
}

func (s *Store) get(ctx context.Context, key string, v any) (etag string, found bool, err error) {
	item, err := s.client.GetState(ctx, s.name, key, nil)
	if err != nil {
		return "", false, fmt.Errorf("get %s: %w", key, err)
	}
	if len(item.Value) == 0 {
		return "", false, nil
	}
	if err := json.Unmarshal(item.Value, v); err != nil {
		return "", false, fmt.Errorf("decode %s: %w", key, err)
	}
	return item.Etag, true, nil
}

// exec commits a transaction: a write with its outbox event.
func (s *Store) exec(ctx context.Context, ops ...*dapr.StateOperation) error {
	return conflict(s.client.ExecuteStateTransaction(ctx, s.name, nil, ops))
}

// save writes one key guarded by etag (an insert when etag is empty),
// outside the outbox.
func (s *Store) save(ctx context.Context, key string, value []byte, etag string) error {
	return conflict(s.client.SaveStateWithETag(ctx, s.name, key, value, etag, nil,
		dapr.WithConcurrency(dapr.StateConcurrencyFirstWrite), dapr.WithConsistency(dapr.StateConsistencyStrong)))
}

func conflict(err error) error {
	if daprstate.IsConflict(err) {
		return errors.Join(order.ErrConflict, err)
	}
	return err
}

// Get returns one order.
func (s *Store) Get(ctx context.Context, id string) (order.Order, error) {
	var o order.Order
	_, found, err := s.get(ctx, orderKey(id), &o)
	if err == nil && !found {
		err = fmt.Errorf("order %s: %w", id, order.ErrNotFound)
	}
	return o, err
}

// Create inserts o with its event in one outbox transaction of one key.
func (s *Store) Create(ctx context.Context, o order.Order, event any) error {
	b, err := json.Marshal(o)
	if err != nil {
		return fmt.Errorf("encode order: %w", err)
	}
	proj, err := projection(orderKey(o.ID), event)
	if err != nil {
		return err
	}
	if err := s.exec(ctx, upsert(orderKey(o.ID), b, ""), proj); err != nil {
		return fmt.Errorf("create order %s: %w", o.ID, err)
	}
	return nil
}

// Update is read, apply, write with the ETag, retried on conflict.
func (s *Store) Update(ctx context.Context, id string, fn func(*order.Order) (any, error)) (order.Order, error) {
	for attempt := 0; ; attempt++ {
		var o order.Order
		etag, found, err := s.get(ctx, orderKey(id), &o)
		if err != nil {
			return o, err
		}
		if !found {
			return o, fmt.Errorf("order %s: %w", id, order.ErrNotFound)
		}
		event, err := fn(&o)
		if errors.Is(err, order.ErrUnchanged) {
			return o, nil
		}
		if err != nil {
			return o, err
		}
		b, err := json.Marshal(o)
		if err != nil {
			return o, fmt.Errorf("encode order: %w", err)
		}
		if event == nil {
			err = s.save(ctx, orderKey(id), b, etag)
		} else {
			var proj *dapr.StateOperation
			if proj, err = projection(orderKey(id), event); err != nil {
				return o, err
			}
			err = s.exec(ctx, upsert(orderKey(id), b, etag), proj)
		}
		if err == nil {
			return o, nil
		}
		if !errors.Is(err, order.ErrConflict) || attempt >= maxAttempts {
			return o, fmt.Errorf("update order %s: %w", id, err)
		}
		if err := backoff(ctx, attempt); err != nil {
			return o, err
		}
	}
}

func backoff(ctx context.Context, attempt int) error {
	d := time.Duration(1+rand.IntN(5*(min(attempt, 10)+1))) * time.Millisecond
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

type claim struct {
	OrderID     string `json:"order_id"`
	RequestHash string `json:"request_hash"`
}

// ClaimKey inserts the idempotency record; the first writer wins.
func (s *Store) ClaimKey(ctx context.Context, userID, key, orderID, requestHash string) (string, string, error) {
	b, err := json.Marshal(claim{OrderID: orderID, RequestHash: requestHash})
	if err != nil {
		return "", "", err
	}
	err = s.save(ctx, idemKey(userID, key), b, "")
	if err == nil {
		return orderID, requestHash, nil
	}
	if !errors.Is(err, order.ErrConflict) {
		return "", "", fmt.Errorf("claim idempotency key: %w", err)
	}
	var c claim
	_, found, err := s.get(ctx, idemKey(userID, key), &c)
	if err != nil {
		return "", "", err
	}
	if !found {
		return "", "", fmt.Errorf("claim idempotency key: conflict but no record: %w", order.ErrConflict)
	}
	return c.OrderID, c.RequestHash, nil
}

// Index adds the order to its user's list, its shard of all orders and its
// shard of pending orders.
func (s *Store) Index(ctx context.Context, o order.Order) error {
	for _, key := range []string{userIndexKey(o.UserID), allIndexKey(shardOf(o.ID)), pendingKey(shardOf(o.ID))} {
		if err := s.updateIndex(ctx, key, func(ids []string) []string {
			if slices.Contains(ids, o.ID) {
				return nil
			}
			return append(ids, o.ID)
		}); err != nil {
			return err
		}
	}
	return nil
}

// updateIndex applies fn to the id list at key; fn returns nil for no change.
func (s *Store) updateIndex(ctx context.Context, key string, fn func([]string) []string) error {
	for attempt := 0; ; attempt++ {
		var ids []string
		etag, _, err := s.get(ctx, key, &ids)
		if err != nil {
			return err
		}
		next := fn(ids)
		if next == nil {
			return nil
		}
		b, err := json.Marshal(next)
		if err != nil {
			return err
		}
		err = s.save(ctx, key, b, etag)
		if err == nil {
			return nil
		}
		if !errors.Is(err, order.ErrConflict) || attempt >= maxAttempts {
			return fmt.Errorf("update %s: %w", key, err)
		}
		if err := backoff(ctx, attempt); err != nil {
			return err
		}
	}
}

func (s *Store) ids(ctx context.Context, keys ...string) ([]string, error) {
	var all []string
	items, err := s.client.GetBulkState(ctx, s.name, keys, nil, 8)
	if err != nil {
		return nil, fmt.Errorf("get indexes: %w", err)
	}
	for _, it := range items {
		if it.Error != "" {
			return nil, fmt.Errorf("get %s: %s", it.Key, it.Error)
		}
		if len(it.Value) == 0 {
			continue
		}
		var ids []string
		if err := json.Unmarshal(it.Value, &ids); err != nil {
			return nil, fmt.Errorf("decode %s: %w", it.Key, err)
		}
		all = append(all, ids...)
	}
	return all, nil
}

// List returns orders newest first (ids sort by creation time).
func (s *Store) List(ctx context.Context, userID, after string, limit int) ([]order.Order, string, error) {
	var keys []string
	if userID != "" {
		keys = []string{userIndexKey(userID)}
	} else {
		for i := range shards {
			keys = append(keys, allIndexKey(i))
		}
	}
	ids, err := s.ids(ctx, keys...)
	if err != nil {
		return nil, "", err
	}
	slices.Sort(ids)
	slices.Reverse(ids)
	if after != "" {
		ids = ids[sort.Search(len(ids), func(i int) bool { return ids[i] < after }):]
	}
	out := []order.Order{}
	for len(ids) > 0 && len(out) < limit {
		batch := ids[:min(len(ids), limit-len(out))]
		ids = ids[len(batch):]
		keys := make([]string, len(batch))
		for i, id := range batch {
			keys[i] = orderKey(id)
		}
		items, err := s.client.GetBulkState(ctx, s.name, keys, nil, 8)
		if err != nil {
			return nil, "", fmt.Errorf("get orders: %w", err)
		}
		byKey := map[string][]byte{}
		for _, it := range items {
			byKey[it.Key] = it.Value
		}
		for _, key := range keys {
			if len(byKey[key]) == 0 {
				continue // indexed before it was created, or never created
			}
			var o order.Order
			if err := json.Unmarshal(byKey[key], &o); err != nil {
				return nil, "", fmt.Errorf("decode %s: %w", key, err)
			}
			out = append(out, o)
		}
	}
	next := ""
	if len(ids) > 0 && len(out) > 0 {
		next = out[len(out)-1].ID
	}
	return out, next, nil
}

// Pending lists the ids in the pending index.
func (s *Store) Pending(ctx context.Context) ([]string, error) {
	keys := make([]string, shards)
	for i := range shards {
		keys[i] = pendingKey(i)
	}
	return s.ids(ctx, keys...)
}

// Unpend removes ids from the pending index.
func (s *Store) Unpend(ctx context.Context, ids []string) error {
	byShard := map[int][]string{}
	for _, id := range ids {
		byShard[shardOf(id)] = append(byShard[shardOf(id)], id)
	}
	for shard, remove := range byShard {
		err := s.updateIndex(ctx, pendingKey(shard), func(ids []string) []string {
			kept := slices.DeleteFunc(slices.Clone(ids), func(id string) bool { return slices.Contains(remove, id) })
			if len(kept) == len(ids) {
				return nil
			}
			return append([]string{}, kept...)
		})
		if err != nil {
			return err
		}
	}
	return nil
}
