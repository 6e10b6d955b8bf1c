// Package batch groups concurrent calls that write the same keys into one
// write at a time (a group commit). A service replica that writes shared
// keys for every request would otherwise race itself for them and retry;
// grouped, the busier it is, the more requests one write carries.
package batch

import (
	"context"
	"slices"
	"sync"
	"time"
)

// Keyed runs its write function on the items given to Do, one write at a
// time per key: items that arrive for a key while a write of that key runs
// wait, and the next write of the key takes them all. A key with nothing
// to write holds no goroutine and no memory.
type Keyed[T any] struct {
	write   func(ctx context.Context, key string, items []T) error
	timeout time.Duration
	most    int

	mu sync.Mutex
	// keys holds the calls waiting for each key that has a write under
	// way (the key is present, its slice maybe empty, while one runs).
	keys map[string][]call[T]
}

type call[T any] struct {
	item T
	done chan error
}

// NewKeyed returns a queue per key that writes with write, each write
// bounded by timeout and carrying at most most items (the rest wait for
// the next write), so that one write's request stays within what the
// sidecar takes. write is called with at least one item.
func NewKeyed[T any](timeout time.Duration, most int, write func(ctx context.Context, key string, items []T) error) *Keyed[T] {
	return &Keyed[T]{write: write, timeout: timeout, most: max(most, 1), keys: map[string][]call[T]{}}
}

// Do adds item to the next write of key and returns that write's error.
// When ctx ends first, Do returns ctx.Err() and the write still carries
// the item.
func (k *Keyed[T]) Do(ctx context.Context, key string, item T) error {
	c := call[T]{item: item, done: make(chan error, 1)}
	k.mu.Lock()
	waiting, running := k.keys[key]
	k.keys[key] = append(waiting, c)
	k.mu.Unlock()
	if !running {
		go k.run(key)
	}
	select {
	case err := <-c.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Pending is the number of items waiting for the next write of key.
func (k *Keyed[T]) Pending(key string) int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.keys[key])
}

// run writes key's queue in groups until it is empty. The writes run on a
// context of their own: a caller that gives up does not cut short the
// write the others wait for.
func (k *Keyed[T]) run(key string) {
	for {
		k.mu.Lock()
		calls := k.keys[key]
		if len(calls) == 0 {
			delete(k.keys, key)
			k.mu.Unlock()
			return
		}
		if len(calls) > k.most {
			calls, k.keys[key] = calls[:k.most], slices.Clone(calls[k.most:])
		} else {
			k.keys[key] = nil // still running
		}
		k.mu.Unlock()
		items := make([]T, len(calls))
		for i, c := range calls {
			items[i] = c.item
		}
		ctx, cancel := context.WithTimeout(context.Background(), k.timeout)
		err := k.write(ctx, key, items)
		cancel()
		for _, c := range calls {
			c.done <- err
		}
	}
}

// Queue is a Keyed of one key: one write at a time.
type Queue[T any] struct{ k *Keyed[T] }

// New returns a queue that writes with write, as NewKeyed does.
func New[T any](timeout time.Duration, most int, write func(ctx context.Context, items []T) error) *Queue[T] {
	return &Queue[T]{k: NewKeyed(timeout, most, func(ctx context.Context, _ string, items []T) error { return write(ctx, items) })}
}

// Do adds item to the next write and returns that write's error, as
// Keyed.Do does.
func (q *Queue[T]) Do(ctx context.Context, item T) error { return q.k.Do(ctx, "", item) }

// Pending is the number of items waiting for the next write.
func (q *Queue[T]) Pending() int { return q.k.Pending("") }
