package daprstate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	dapr "github.com/dapr/go-sdk/client"
)

// Client is the part of the Dapr client a Store calls.
type Client interface {
	GetState(ctx context.Context, storeName, key string, meta map[string]string) (*dapr.StateItem, error)
	GetBulkState(ctx context.Context, storeName string, keys []string, meta map[string]string, parallelism int32) ([]*dapr.BulkStateItem, error)
	SaveStateWithETag(ctx context.Context, storeName, key string, data []byte, etag string, meta map[string]string, so ...dapr.StateOption) error
	SaveBulkState(ctx context.Context, storeName string, items ...*dapr.SetStateItem) error
	DeleteStateWithETag(ctx context.Context, storeName, key string, etag *dapr.ETag, meta map[string]string, opts *dapr.StateOptions) error
}

// Errors of a Store. Adapters translate them into their domain's errors
// with errors.Is.
var (
	// ErrConflict is a write that lost an optimistic-concurrency race: the
	// key changed since it was read, or an insert found it taken.
	ErrConflict = errors.New("state conflict")
	// ErrUnchanged, returned by the function given to Update, tells Update
	// to write nothing.
	ErrUnchanged = errors.New("unchanged")
)

// DefaultAttempts bounds the read-apply-write rounds of one Update.
const DefaultAttempts = 50

// Store is one Dapr state store component, holding JSON values. Every write
// is a single-key write with first-write concurrency: guarded by the ETag
// the value was read with, or an insert only if absent. No write is a
// multi-key transaction, which not every store applies all or nothing
// (state.redis runs MULTI/EXEC with no rollback).
type Store struct {
	client   Client
	name     string
	attempts int
	sleep    func(ctx context.Context, d time.Duration) error
}

// Option changes a Store.
type Option func(*Store)

// WithAttempts bounds the rounds of one Update (default DefaultAttempts).
func WithAttempts(n int) Option { return func(s *Store) { s.attempts = max(n, 1) } }

// New returns the store component called name.
func New(client Client, name string, opts ...Option) *Store {
	s := &Store{client: client, name: name, attempts: DefaultAttempts, sleep: sleepContext}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Name is the component's name.
func (s *Store) Name() string { return s.name }

var firstWrite = []dapr.StateOption{
	dapr.WithConcurrency(dapr.StateConcurrencyFirstWrite),
	dapr.WithConsistency(dapr.StateConsistencyStrong),
}

// mapErr turns a store's answer to a lost race into ErrConflict, keeping
// the store's own message.
func mapErr(err error) error {
	if IsConflict(err) {
		return errors.Join(ErrConflict, err)
	}
	return err
}

// read returns the raw value and ETag of key; found is false when absent.
func (s *Store) read(ctx context.Context, key string) (value []byte, etag string, found bool, err error) {
	item, err := s.client.GetState(ctx, s.name, key, nil)
	if err != nil {
		return nil, "", false, fmt.Errorf("get %s: %w", key, err)
	}
	if item == nil || len(item.Value) == 0 {
		return nil, "", false, nil
	}
	return item.Value, item.Etag, true, nil
}

// write saves value at key guarded by etag; with no etag, only if absent.
func (s *Store) write(ctx context.Context, key string, value []byte, etag string) error {
	if err := s.client.SaveStateWithETag(ctx, s.name, key, value, etag, nil, firstWrite...); err != nil {
		return fmt.Errorf("save %s: %w", key, mapErr(err))
	}
	return nil
}

// Get reads the JSON value at key into a T; found is false when absent.
func Get[T any](ctx context.Context, s *Store, key string) (v T, found bool, err error) {
	b, _, found, err := s.read(ctx, key)
	if err != nil || !found {
		return v, false, err
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return v, false, fmt.Errorf("decode %s: %w", key, err)
	}
	return v, true, nil
}

// GetBulk reads the values of keys in one call; absent keys are not in the
// map.
func GetBulk[T any](ctx context.Context, s *Store, keys []string) (map[string]T, error) {
	out := make(map[string]T, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	items, err := s.client.GetBulkState(ctx, s.name, keys, nil, 8)
	if err != nil {
		return nil, fmt.Errorf("get %d keys: %w", len(keys), err)
	}
	for _, it := range items {
		if it.Error != "" {
			return nil, fmt.Errorf("get %s: %s", it.Key, it.Error)
		}
		if len(it.Value) == 0 {
			continue
		}
		var v T
		if err := json.Unmarshal(it.Value, &v); err != nil {
			return nil, fmt.Errorf("decode %s: %w", it.Key, err)
		}
		out[it.Key] = v
	}
	return out, nil
}

// Insert writes v at key only if the key is absent; ErrConflict when it
// exists. On every store this is atomic: two inserts of one key never both
// succeed.
func Insert[T any](ctx context.Context, s *Store, key string, v T) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", key, err)
	}
	return s.write(ctx, key, b, "")
}

// Update is the one optimistic-concurrency loop: it reads key, calls fn
// with the value (the zero T and found == false when the key is absent),
// and writes the result guarded by the ETag it read, or as an insert when
// the key was absent. A write that loses a race is tried again from the
// read, after a short jittered wait, up to the store's attempts; then it
// fails with ErrConflict. fn may run more than once, so it must only
// change v. When fn returns ErrUnchanged nothing is written and Update
// returns the value as read; any other error ends Update with it.
func Update[T any](ctx context.Context, s *Store, key string, fn func(v *T, found bool) error) (T, error) {
	var zero T
	for attempt := 0; ; attempt++ {
		b, etag, found, err := s.read(ctx, key)
		if err != nil {
			return zero, err
		}
		var v T
		if found {
			if err := json.Unmarshal(b, &v); err != nil {
				return zero, fmt.Errorf("decode %s: %w", key, err)
			}
		}
		if err := fn(&v, found); err != nil {
			if errors.Is(err, ErrUnchanged) {
				return v, nil
			}
			return v, err
		}
		nb, err := json.Marshal(v)
		if err != nil {
			return v, fmt.Errorf("encode %s: %w", key, err)
		}
		err = s.write(ctx, key, nb, etag)
		if err == nil {
			return v, nil
		}
		if !errors.Is(err, ErrConflict) || attempt+1 >= s.attempts {
			return v, err
		}
		if err := s.sleep(ctx, Backoff(attempt)); err != nil {
			return v, err
		}
	}
}

// Change is one key's part of UpdateAll: made by Edit.
type Change struct {
	key   string
	apply func(value []byte, found bool) ([]byte, error)
}

// Edit is a change of the JSON value at key for UpdateAll: fn is called
// as Update calls it (the zero T and found == false when the key is
// absent; ErrUnchanged writes nothing to this key).
func Edit[T any](key string, fn func(v *T, found bool) error) Change {
	return Change{key: key, apply: func(b []byte, found bool) ([]byte, error) {
		var v T
		if found {
			if err := json.Unmarshal(b, &v); err != nil {
				return nil, fmt.Errorf("decode %s: %w", key, err)
			}
		}
		if err := fn(&v, found); err != nil {
			return nil, err
		}
		return json.Marshal(v)
	}}
}

// UpdateAll is Update over several keys in two calls to the sidecar: one
// bulk read of every key, then one bulk save of the values that changed,
// each guarded by the ETag it was read with (or an insert when it was
// absent). It is not a transaction: the keys are written one by one, and
// when one write loses a race the others may be written or not (daprd
// reports the loss, and a store such as state.redis has no rollback). So
// on a lost race every key is read and changed again, and each fn must
// give the same result when applied to a value it already changed (add
// an id if it is missing, not append it). The keys must differ.
func UpdateAll(ctx context.Context, s *Store, changes ...Change) error {
	keys := make([]string, len(changes))
	for i, c := range changes {
		keys[i] = c.key
	}
	for attempt := 0; ; attempt++ {
		items, err := s.client.GetBulkState(ctx, s.name, keys, nil, int32(min(len(keys), 16)))
		if err != nil {
			return fmt.Errorf("get %d keys: %w", len(keys), err)
		}
		byKey := make(map[string]*dapr.BulkStateItem, len(items))
		for _, it := range items {
			if it.Error != "" {
				return fmt.Errorf("get %s: %s", it.Key, it.Error)
			}
			byKey[it.Key] = it
		}
		var writes []*dapr.SetStateItem
		for _, c := range changes {
			it := byKey[c.key]
			found := it != nil && len(it.Value) > 0
			var value []byte
			var etag *dapr.ETag
			if found {
				value, etag = it.Value, &dapr.ETag{Value: it.Etag}
			}
			nb, err := c.apply(value, found)
			if errors.Is(err, ErrUnchanged) {
				continue
			}
			if err != nil {
				return err
			}
			writes = append(writes, &dapr.SetStateItem{Key: c.key, Value: nb, Etag: etag,
				Options: &dapr.StateOptions{Concurrency: dapr.StateConcurrencyFirstWrite, Consistency: dapr.StateConsistencyStrong}})
		}
		switch len(writes) {
		case 0:
			return nil
		case 1:
			// daprd saves one item as a single write anyway; this keeps
			// the store's own answer to a lost race.
			w := writes[0]
			etag := ""
			if w.Etag != nil {
				etag = w.Etag.Value
			}
			err = s.write(ctx, w.Key, w.Value, etag)
		default:
			if err = s.client.SaveBulkState(ctx, s.name, writes...); err != nil {
				err = fmt.Errorf("save %d keys: %w", len(writes), mapErr(err))
			}
		}
		if err == nil {
			return nil
		}
		if !errors.Is(err, ErrConflict) || attempt+1 >= s.attempts {
			return err
		}
		if err := s.sleep(ctx, Backoff(attempt)); err != nil {
			return err
		}
	}
}

// Delete removes key if it still holds what was read when check approved
// it: it reads the value, asks check, and deletes guarded by the ETag read,
// retrying from the read on a lost race. check returning false keeps the
// key. A key that is absent is already deleted.
func Delete[T any](ctx context.Context, s *Store, key string, check func(v T) bool) error {
	for attempt := 0; ; attempt++ {
		b, etag, found, err := s.read(ctx, key)
		if err != nil || !found {
			return err
		}
		var v T
		if err := json.Unmarshal(b, &v); err != nil {
			return fmt.Errorf("decode %s: %w", key, err)
		}
		if !check(v) {
			return nil
		}
		err = s.client.DeleteStateWithETag(ctx, s.name, key, &dapr.ETag{Value: etag}, nil,
			&dapr.StateOptions{Concurrency: dapr.StateConcurrencyFirstWrite, Consistency: dapr.StateConsistencyStrong})
		if err == nil {
			return nil
		}
		err = fmt.Errorf("delete %s: %w", key, mapErr(err))
		if !errors.Is(err, ErrConflict) || attempt+1 >= s.attempts {
			return err
		}
		if err := s.sleep(ctx, Backoff(attempt)); err != nil {
			return err
		}
	}
}

// Backoff is the wait before round attempt+1 of a loop that lost a race:
// random (full jitter) up to a cap that grows with the attempt, so racing
// writers spread out instead of colliding again in step.
func Backoff(attempt int) time.Duration {
	ceiling := time.Duration(2<<min(attempt, 6)) * time.Millisecond // 2ms .. 128ms
	return time.Duration(rand.Int64N(int64(ceiling))) + time.Millisecond/2
}

func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
