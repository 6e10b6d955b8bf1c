// Package batch groups concurrent calls that write the same keys into one
// write at a time (a group commit). A service replica that writes shared
// keys for every request would otherwise race itself for them and retry;
// grouped, the busier it is, the more requests one write carries.
package batch

import (
	"context"
	"sync"
	"time"
)

// Queue runs its write function on the items given to Do, one write at a
// time: items that arrive while a write runs wait, and the next write takes
// them all. An idle queue holds no goroutine.
type Queue[T any] struct {
	write   func(ctx context.Context, items []T) error
	timeout time.Duration

	mu      sync.Mutex
	pending []call[T]
	running bool
}

type call[T any] struct {
	item T
	done chan error
}

// New returns a queue that writes with write, each write bounded by
// timeout. write is called with at least one item.
func New[T any](timeout time.Duration, write func(ctx context.Context, items []T) error) *Queue[T] {
	return &Queue[T]{write: write, timeout: timeout}
}

// Do adds item to the next write and returns that write's error. When ctx
// ends first, Do returns ctx.Err() and the write still carries the item.
func (q *Queue[T]) Do(ctx context.Context, item T) error {
	c := call[T]{item: item, done: make(chan error, 1)}
	q.mu.Lock()
	q.pending = append(q.pending, c)
	start := !q.running
	q.running = true
	q.mu.Unlock()
	if start {
		go q.run()
	}
	select {
	case err := <-c.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Pending is the number of items waiting for the next write.
func (q *Queue[T]) Pending() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.pending)
}

// run writes the queue in groups until it is empty. The writes run on a
// context of their own: a caller that gives up does not cut short the
// write the others wait for.
func (q *Queue[T]) run() {
	for {
		q.mu.Lock()
		calls := q.pending
		q.pending = nil
		if len(calls) == 0 {
			q.running = false
			q.mu.Unlock()
			return
		}
		q.mu.Unlock()
		items := make([]T, len(calls))
		for i, c := range calls {
			items[i] = c.item
		}
		ctx, cancel := context.WithTimeout(context.Background(), q.timeout)
		err := q.write(ctx, items)
		cancel()
		for _, c := range calls {
			c.done <- err
		}
	}
}
