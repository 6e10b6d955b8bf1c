package inventory

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"time"
)

// Publisher announces the answer to an order's order.created: reserved, or
// rejected with the reason of every line that could not be reserved.
type Publisher interface {
	PublishOutcome(ctx context.Context, r Reservation) error
}

// DefaultAttempts bounds the read-decide-write rounds of one operation that
// keeps losing optimistic-concurrency races.
const DefaultAttempts = 50

// Service carries out the inventory's use cases on a Store: every one is a
// read-decide-write round, retried when a concurrent writer got there first.
type Service struct {
	store    Store
	pub      Publisher
	attempts int
	sleep    func(ctx context.Context, d time.Duration) error

	conflictsRetried   atomic.Int64
	conflictsExhausted atomic.Int64
	published          atomic.Int64
	outcomes           [4]atomic.Int64 // by the index of Stats' decision counters
}

// Stats counts what the service did since it started.
type Stats struct {
	// ConflictsRetried counts rounds that lost an optimistic-concurrency
	// race (a changed ETag, or an insert of a key that appeared) and were
	// run again; ConflictsExhausted counts operations that lost
	// DefaultAttempts rounds in a row and failed.
	ConflictsRetried, ConflictsExhausted int64
	// Reserved, Rejected, Committed and Released count the reservations
	// that reached that state (redeliveries are not counted).
	Reserved, Rejected, Committed, Released int64
	// Published counts the outcomes published, redeliveries' included.
	Published int64
}

const (
	countReserved = iota
	countRejected
	countCommitted
	countReleased
)

// Option changes a Service; tests use them.
type Option func(*Service)

// WithAttempts bounds the rounds of one operation (default DefaultAttempts).
func WithAttempts(n int) Option { return func(s *Service) { s.attempts = max(n, 1) } }

// WithSleep replaces the wait between rounds.
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(s *Service) { s.sleep = sleep }
}

// NewService returns the inventory's use cases on store, announcing
// outcomes with pub.
func NewService(store Store, pub Publisher, opts ...Option) *Service {
	s := &Service{store: store, pub: pub, attempts: DefaultAttempts, sleep: sleepContext}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Stats returns the counters.
func (s *Service) Stats() Stats {
	return Stats{
		ConflictsRetried:   s.conflictsRetried.Load(),
		ConflictsExhausted: s.conflictsExhausted.Load(),
		Reserved:           s.outcomes[countReserved].Load(),
		Rejected:           s.outcomes[countRejected].Load(),
		Committed:          s.outcomes[countCommitted].Load(),
		Released:           s.outcomes[countReleased].Load(),
		Published:          s.published.Load(),
	}
}

// Product returns one product.
func (s *Service) Product(ctx context.Context, sku string) (Product, error) {
	return s.store.Get(ctx, sku)
}

// Products returns a page of the catalog.
func (s *Service) Products(ctx context.Context, after string, limit int) (Page, error) {
	return s.store.List(ctx, after, limit)
}

// Lookup returns the products with the given SKUs, in the order asked and
// each once, and the SKUs that name no product.
func (s *Service) Lookup(ctx context.Context, skus []string) ([]Product, []string, error) {
	unique := make([]string, 0, len(skus))
	seen := make(map[string]bool, len(skus))
	for _, sku := range skus {
		if !seen[sku] {
			seen[sku] = true
			unique = append(unique, sku)
		}
	}
	found := []Product{}
	missing := []string{}
	if len(unique) == 0 {
		return found, missing, nil
	}
	products, _, err := s.store.Load(ctx, "", unique)
	if err != nil {
		return nil, nil, err
	}
	for _, sku := range unique {
		if p, ok := products[sku]; ok {
			found = append(found, p)
		} else {
			missing = append(missing, sku)
		}
	}
	return found, missing, nil
}

// CreateProduct adds a product to the catalog; ErrExists when its SKU is
// taken, a ValidationError when n is not valid.
func (s *Service) CreateProduct(ctx context.Context, n NewProduct) (Product, error) {
	p, err := n.Product()
	if err != nil {
		return Product{}, err
	}
	if err := p.CheckInvariant(); err != nil {
		return Product{}, err
	}
	err = s.retry(ctx, "create product "+p.SKU, func() error { return s.store.Create(ctx, p) })
	if err != nil {
		return Product{}, err
	}
	return p, nil
}

// Restock adds quantity received units to a product's available stock.
func (s *Service) Restock(ctx context.Context, sku string, quantity int64) (Product, error) {
	if err := ValidRestock(quantity); err != nil {
		return Product{}, err
	}
	var p Product
	err := s.retry(ctx, "restock "+sku, func() error {
		products, _, err := s.store.Load(ctx, "", []string{sku})
		if err != nil {
			return err
		}
		var ok bool
		if p, ok = products[sku]; !ok {
			return fmt.Errorf("product %s: %w", sku, ErrNotFound)
		}
		if err := p.Restock(quantity); err != nil {
			return err
		}
		return s.store.Save(ctx, []Product{p}, nil)
	})
	if err != nil {
		return Product{}, err
	}
	return p, nil
}

// Reservation returns what the inventory knows of an order.
func (s *Service) Reservation(ctx context.Context, orderID string) (Reservation, error) {
	_, r, err := s.store.Load(ctx, orderID, nil)
	if err != nil {
		return Reservation{}, err
	}
	if r == nil {
		return Reservation{}, fmt.Errorf("reservation of order %s: %w", orderID, ErrNotFound)
	}
	return *r, nil
}

// OrderCreated reserves every line of a new order or none (DecideCreated),
// then publishes the outcome. The outcome is published only once it is
// stored, and again on every redelivery, so a failure after the write is
// repaired by the event's redelivery.
func (s *Service) OrderCreated(ctx context.Context, orderID string, items []Line) error {
	if !ValidOrderID(orderID) {
		return fmt.Errorf("%w: order id %q", ErrMalformed, orderID)
	}
	lines, err := MergeLines(items)
	if err != nil {
		return fmt.Errorf("order %s: %w", orderID, err)
	}
	d, err := s.decide(ctx, "order.created", orderID, SKUs(lines), func(existing *Reservation, products map[string]Product) (Decision, error) {
		return DecideCreated(orderID, lines, existing, products)
	})
	if err != nil {
		return err
	}
	if d.Write {
		if d.Reservation.Outcome == OutcomeReserved {
			s.outcomes[countReserved].Add(1)
		} else {
			s.outcomes[countRejected].Add(1)
		}
	}
	if err := s.pub.PublishOutcome(ctx, d.Reservation); err != nil {
		return fmt.Errorf("order %s: publish %s: %w", orderID, d.Reservation.Outcome, err)
	}
	s.published.Add(1)
	return nil
}

// OrderConfirmed turns the order's reserved units into sold ones
// (DecideConfirmed).
func (s *Service) OrderConfirmed(ctx context.Context, orderID string) error {
	if !ValidOrderID(orderID) {
		return fmt.Errorf("%w: order id %q", ErrMalformed, orderID)
	}
	d, err := s.decide(ctx, "order.confirmed", orderID, nil, func(existing *Reservation, products map[string]Product) (Decision, error) {
		return DecideConfirmed(orderID, existing, products)
	})
	if err == nil && d.Write {
		s.outcomes[countCommitted].Add(1)
	}
	return err
}

// OrderCancelled gives the order's units back (DecideCancelled).
func (s *Service) OrderCancelled(ctx context.Context, orderID string) error {
	if !ValidOrderID(orderID) {
		return fmt.Errorf("%w: order id %q", ErrMalformed, orderID)
	}
	d, err := s.decide(ctx, "order.cancelled", orderID, nil, func(existing *Reservation, products map[string]Product) (Decision, error) {
		return DecideCancelled(orderID, existing, products)
	})
	if err == nil && d.Write {
		s.outcomes[countReleased].Add(1)
	}
	return err
}

// decide runs one order event's read-decide-write round until it wins:
// read the order's reservation and the products of skus and of the
// reservation's lines, decide, and write what the decision changed in one
// transaction guarded by the versions read.
func (s *Service) decide(ctx context.Context, event, orderID string, skus []string,
	rule func(existing *Reservation, products map[string]Product) (Decision, error),
) (Decision, error) {
	var d Decision
	err := s.retry(ctx, event+" "+orderID, func() error {
		products, existing, err := s.store.Load(ctx, orderID, skus)
		if err != nil {
			return err
		}
		if existing != nil {
			var more []string
			for _, l := range existing.Lines {
				if _, ok := products[l.SKU]; !ok && !slices.Contains(skus, l.SKU) {
					more = append(more, l.SKU)
				}
			}
			if len(more) > 0 {
				extra, _, err := s.store.Load(ctx, "", more)
				if err != nil {
					return err
				}
				for sku, p := range extra {
					products[sku] = p
				}
			}
		}
		if d, err = rule(existing, products); err != nil || !d.Write {
			return err
		}
		return s.store.Save(ctx, d.Products, &d.Reservation)
	})
	return d, err
}

// retry runs fn until it returns anything but ErrConflict, at most
// s.attempts times, waiting a short jittered back-off between rounds.
func (s *Service) retry(ctx context.Context, op string, fn func() error) error {
	for attempt := 1; ; attempt++ {
		err := fn()
		if !errors.Is(err, ErrConflict) {
			return err
		}
		if attempt >= s.attempts {
			s.conflictsExhausted.Add(1)
			return fmt.Errorf("%s: gave up after %d conflicting attempts: %w", op, attempt, err)
		}
		s.conflictsRetried.Add(1)
		if err := s.sleep(ctx, backoff(attempt)); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
	}
}

// backoff is the wait after the given losing round: random, around 1ms
// doubling up to about 32ms, so that writers racing for one key spread out.
func backoff(attempt int) time.Duration {
	base := time.Millisecond << min(attempt-1, 5)
	return base/2 + rand.N(base)
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
