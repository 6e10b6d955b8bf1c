// Package ordertest runs the order domain, in unit tests, on the real
// adapters (orderstore, payment) over daprstatetest, an in-process fake of
// the Dapr state API that is no more forgiving than Redis: single-key
// writes with ETags or first-write, no multi-key transaction. Only the
// inventory and the broker are stand-ins.
package ordertest

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"

	dapr "github.com/dapr/go-sdk/client"

	"shop/ordersvc/internal/orderstore"
	"shop/ordersvc/internal/payment"
	"shop/platform/daprstate"
	"shop/platform/daprstate/daprstatetest"
)

// Env is the state of a test: the fake state API, the adapters on it, and
// a log of the money the payment ledger moved.
type Env struct {
	State    *daprstatetest.Fake
	Ledger   *Ledger
	Store    *orderstore.Store
	Payments *payment.Simulated
}

// NewEnv returns adapters on an empty fake store.
func NewEnv(opts ...payment.Option) *Env {
	fake := daprstatetest.New()
	ledger := &Ledger{Fake: fake}
	db := daprstate.New(ledger, "orders-state")
	return &Env{State: fake, Ledger: ledger, Store: orderstore.New(db), Payments: payment.NewSimulated(db, opts...)}
}

// Ledger passes every state call to the fake and records each write of a
// payment record that took effect and moves money: one that stores a
// charge (approved, not refunded) or a refund. A payment adapter that
// charged or refunded an order twice would show up here twice, whatever
// it answered its callers.
type Ledger struct {
	*daprstatetest.Fake
	mu       sync.Mutex
	charges  []string // order ids, one entry per charge written
	refunds  []string // order ids, one entry per refund written
	previous map[string]payment.Record
}

// SaveStateWithETag writes through the fake and logs money moves.
func (l *Ledger) SaveStateWithETag(ctx context.Context, store, key string, data []byte, etag string, meta map[string]string, so ...dapr.StateOption) error {
	if err := l.Fake.SaveStateWithETag(ctx, store, key, data, etag, meta, so...); err != nil {
		return err
	}
	id, ok := strings.CutPrefix(key, "payment:")
	if !ok {
		return nil
	}
	var r payment.Record
	if err := json.Unmarshal(data, &r); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.previous == nil {
		l.previous = map[string]payment.Record{}
	}
	prev, had := l.previous[id]
	switch {
	case r.Approved && !r.Refunded:
		l.charges = append(l.charges, id)
	case r.Refunded && (!had || !prev.Refunded || r.RefundedAt != prev.RefundedAt):
		l.refunds = append(l.refunds, id)
	}
	l.previous[id] = r
	return nil
}

// Charges counts the charges written for the order.
func (l *Ledger) Charges(orderID string) int { return l.count(l.charges, orderID) }

// Refunds counts the refunds written for the order.
func (l *Ledger) Refunds(orderID string) int { return l.count(l.refunds, orderID) }

func (l *Ledger) count(log []string, id string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, x := range log {
		if x == id {
			n++
		}
	}
	return n
}

// Inventory prices the SKUs it maps to a price; others are missing.
type Inventory map[string]int64

func (f Inventory) Prices(_ context.Context, skus []string) (map[string]int64, []string, error) {
	prices := map[string]int64{}
	var missing []string
	for _, s := range skus {
		if p, ok := f[s]; ok {
			prices[s] = p
		} else {
			missing = append(missing, s)
		}
	}
	return prices, missing, nil
}

// Published is one event the Publisher sent.
type Published struct {
	Key   string // the partition key
	Event any
}

// Publisher records what it publishes.
type Publisher struct {
	mu     sync.Mutex
	events []Published
	fail   int
	hang   int
}

// HangNext makes the next n publishes wait until their context ends, as
// a publish to an unreachable broker does, and then fail.
func (p *Publisher) HangNext(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hang = n
}

// FailNext makes the next n publishes fail, as a crash or a broker outage
// between saving and publishing would.
func (p *Publisher) FailNext(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fail = n
}

// Publish records e, or fails while failures are due.
func (p *Publisher) Publish(ctx context.Context, key string, e any) error {
	p.mu.Lock()
	if p.hang > 0 {
		p.hang--
		p.mu.Unlock()
		<-ctx.Done()
		return ctx.Err()
	}
	defer p.mu.Unlock()
	if p.fail > 0 {
		p.fail--
		return errors.New("broker unavailable")
	}
	p.events = append(p.events, Published{Key: key, Event: e})
	return nil
}

// Events returns what was published, in order.
func (p *Publisher) Events() []Published {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Published(nil), p.events...)
}
