// Package daprstatetest is an in-process fake of the Dapr state API for unit
// tests of store adapters. It is no more forgiving than the weakest store
// the shop runs on: single-key writes are atomic with ETags and
// first-write, and there is no multi-key transaction at all (the fake has
// no ExecuteStateTransaction), so code under test cannot lean on one. Lost
// races are answered the way state.redis answers them through daprd
// (gRPC Internal, "failed to set key"), which daprstate.IsConflict maps.
package daprstatetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"sync"

	dapr "github.com/dapr/go-sdk/client"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Fake is one state store component's keys. The zero value is not ready:
// use New.
type Fake struct {
	mu     sync.Mutex
	values map[string][]byte
	etags  map[string]int64
	next   int64
	writes int
	// FailWrite, when set, is asked before every save and delete; an error
	// it returns is the answer (as a sidecar or store outage would be).
	FailWrite func(key string) error
	// BeforeWrite, when set, runs before every save and delete outside the
	// fake's lock: tests use it to interleave a competing writer.
	BeforeWrite func(key string)
}

// New returns an empty store.
func New() *Fake {
	return &Fake{values: map[string][]byte{}, etags: map[string]int64{}}
}

// GetState returns the value and ETag of key (an empty item when absent).
func (f *Fake) GetState(_ context.Context, _, key string, _ map[string]string) (*dapr.StateItem, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.values[key]
	if !ok {
		return &dapr.StateItem{Key: key}, nil
	}
	return &dapr.StateItem{Key: key, Value: append([]byte(nil), v...), Etag: strconv.FormatInt(f.etags[key], 10)}, nil
}

// GetBulkState reads each key on its own, as daprd does on stores without
// a bulk read: it is not a snapshot.
func (f *Fake) GetBulkState(ctx context.Context, store string, keys []string, meta map[string]string, _ int32) ([]*dapr.BulkStateItem, error) {
	out := make([]*dapr.BulkStateItem, 0, len(keys))
	for _, k := range keys {
		it, _ := f.GetState(ctx, store, k, meta)
		out = append(out, &dapr.BulkStateItem{Key: k, Value: it.Value, Etag: it.Etag})
	}
	return out, nil
}

// SaveStateWithETag writes key: guarded by etag when one is given; with
// none and first-write concurrency, only if the key is absent; with none
// and last-write, unconditionally.
func (f *Fake) SaveStateWithETag(_ context.Context, _, key string, data []byte, etag string, _ map[string]string, so ...dapr.StateOption) error {
	if f.BeforeWrite != nil {
		f.BeforeWrite(key)
	}
	if f.FailWrite != nil {
		if err := f.FailWrite(key); err != nil {
			return err
		}
	}
	opts := &dapr.StateOptions{}
	for _, o := range so {
		o(opts)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	cur, exists := f.etags[key]
	switch {
	case etag != "":
		if !exists || strconv.FormatInt(cur, 10) != etag {
			return status.Error(codes.Internal, fmt.Sprintf("failed saving state in state store fake: failed to set key %s: ERR", key))
		}
	case opts.Concurrency == dapr.StateConcurrencyFirstWrite && exists:
		return status.Error(codes.Internal, fmt.Sprintf("failed saving state in state store fake: failed to set key %s: ERR", key))
	}
	f.next++
	f.values[key] = append([]byte(nil), data...)
	f.etags[key] = f.next
	f.writes++
	return nil
}

// SaveBulkState saves the items one by one, as daprd does on a store
// without a transactional bulk write (state.redis runs them with no
// rollback): when one fails, the others are still written, and the answer
// joins the failures.
func (f *Fake) SaveBulkState(ctx context.Context, store string, items ...*dapr.SetStateItem) error {
	var errs []error
	for _, it := range items {
		etag := ""
		if it.Etag != nil {
			etag = it.Etag.Value
		}
		var so []dapr.StateOption
		if it.Options != nil {
			so = append(so, dapr.WithConcurrency(it.Options.Concurrency), dapr.WithConsistency(it.Options.Consistency))
		}
		if err := f.SaveStateWithETag(ctx, store, it.Key, it.Value, etag, it.Metadata, so...); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return status.Error(codes.Internal, errors.Join(errs...).Error())
	}
	return nil
}

// DeleteStateWithETag deletes key, guarded by etag when one is given.
func (f *Fake) DeleteStateWithETag(_ context.Context, _, key string, etag *dapr.ETag, _ map[string]string, _ *dapr.StateOptions) error {
	if f.BeforeWrite != nil {
		f.BeforeWrite(key)
	}
	if f.FailWrite != nil {
		if err := f.FailWrite(key); err != nil {
			return err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if etag != nil && etag.Value != "" {
		if cur, ok := f.etags[key]; !ok || strconv.FormatInt(cur, 10) != etag.Value {
			return status.Error(codes.Internal, fmt.Sprintf("failed deleting state with key %s: possible etag mismatch", key))
		}
	}
	delete(f.values, key)
	delete(f.etags, key)
	f.writes++
	return nil
}

// Keys returns a copy of every key and its value.
func (f *Fake) Keys() map[string][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.values)
}

// Writes counts the saves and deletes that took effect.
func (f *Fake) Writes() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.writes
}
