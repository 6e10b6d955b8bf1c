// Package ordertest has in-memory fakes of the interfaces the order domain
// declares, with the semantics of the real adapters, for unit tests.
package ordertest

import (
	"context"
	"errors"
	"slices"
	"sync"

	"shop/ordersvc/internal/order"
)

// Store keeps orders in memory, with the semantics of orderstore.
type Store struct {
	mu         sync.Mutex
	Orders     map[string]order.Order
	claims     map[string][2]string
	PendingIDs []string
	Outbox     []any // events committed with writes
}

// NewStore returns an empty store.
func NewStore() *Store {
	return &Store{Orders: map[string]order.Order{}, claims: map[string][2]string{}}
}

func (f *Store) Get(_ context.Context, id string) (order.Order, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	o, ok := f.Orders[id]
	if !ok {
		return order.Order{}, order.ErrNotFound
	}
	return o, nil
}

func (f *Store) Create(_ context.Context, o order.Order, event any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.Orders[o.ID]; ok {
		return order.ErrConflict
	}
	f.Orders[o.ID] = o
	f.Outbox = append(f.Outbox, event)
	return nil
}

func (f *Store) Update(_ context.Context, id string, fn func(*order.Order) (any, error)) (order.Order, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	o, ok := f.Orders[id]
	if !ok {
		return order.Order{}, order.ErrNotFound
	}
	event, err := fn(&o)
	if errors.Is(err, order.ErrUnchanged) {
		return f.Orders[id], nil
	}
	if err != nil {
		return order.Order{}, err
	}
	f.Orders[id] = o
	if event != nil {
		f.Outbox = append(f.Outbox, event)
	}
	return o, nil
}

func (f *Store) ClaimKey(_ context.Context, userID, key, orderID, hash string) (string, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := userID + "/" + key
	if c, ok := f.claims[k]; ok {
		return c[0], c[1], nil
	}
	f.claims[k] = [2]string{orderID, hash}
	return orderID, hash, nil
}

func (f *Store) Index(_ context.Context, o order.Order) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !slices.Contains(f.PendingIDs, o.ID) {
		f.PendingIDs = append(f.PendingIDs, o.ID)
	}
	return nil
}

func (f *Store) List(context.Context, string, string, int) ([]order.Order, string, error) {
	return nil, "", nil
}

func (f *Store) Pending(context.Context) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.PendingIDs), nil
}

func (f *Store) Unpend(_ context.Context, ids []string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.PendingIDs = slices.DeleteFunc(f.PendingIDs, func(id string) bool { return slices.Contains(ids, id) })
	return nil
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

// Payments approves tok_visa and declines tok_decline, once per order.
type Payments struct {
	Charges map[string]bool // order id -> approved
	Refunds map[string]int
	calls   int
}

// NewPayments returns a provider with no charges.
func NewPayments() *Payments {
	return &Payments{Charges: map[string]bool{}, Refunds: map[string]int{}}
}

func (p *Payments) KnownToken(t string) bool { return t == "tok_visa" || t == "tok_decline" }

func (p *Payments) Charge(_ context.Context, id, token string, _ int64) (bool, error) {
	p.calls++
	if approved, ok := p.Charges[id]; ok {
		return approved, nil
	}
	p.Charges[id] = token == "tok_visa"
	return p.Charges[id], nil
}

func (p *Payments) Refund(_ context.Context, id string) error {
	if p.Charges[id] && p.Refunds[id] == 0 {
		p.Refunds[id]++
	}
	return nil
}

// Publisher records what it publishes.
type Publisher struct {
	Events []any
	// Fail makes the next Fail publishes fail, as a crash or a broker
	// outage between saving and publishing would.
	Fail int
}

// Publish records e, or fails while Fail is positive.
func (p *Publisher) Publish(_ context.Context, e any) error {
	if p.Fail > 0 {
		p.Fail--
		return errors.New("broker unavailable")
	}
	p.Events = append(p.Events, e)
	return nil
}
