package inventory

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
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

// Service carries out the inventory's use cases on a Store: every write is
// a read-modify-write round of one key, retried when a concurrent writer
// got there first.
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
	return s.store.Product(ctx, sku)
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
	products, err := s.store.Products(ctx, unique)
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
//
// Two single-key writes: the product is inserted only if absent, then its
// SKU is added to the catalog index. A create that fails between them (or
// whose index update keeps losing races) answers an error, and the admin's
// retry, answered ErrExists, still lists the product first: a product that
// exists is always listed once a create of it has answered.
func (s *Service) CreateProduct(ctx context.Context, n NewProduct) (Product, error) {
	p, err := n.Product()
	if err != nil {
		return Product{}, err
	}
	if err := p.CheckInvariant(); err != nil {
		return Product{}, err
	}
	inserted := s.store.InsertProduct(ctx, p)
	if inserted != nil && !errors.Is(inserted, ErrExists) {
		return Product{}, inserted
	}
	if err := s.retry(ctx, "list product "+p.SKU, func() error { return s.store.AddToCatalog(ctx, p.SKU) }); err != nil {
		return Product{}, err
	}
	if inserted != nil {
		return Product{}, inserted
	}
	return p, nil
}

// Restock adds quantity received units to a product's available stock.
func (s *Service) Restock(ctx context.Context, sku string, quantity int64) (Product, error) {
	if err := ValidRestock(quantity); err != nil {
		return Product{}, err
	}
	p, _, err := s.update(ctx, "restock "+sku, sku, func(p *Product) (bool, error) {
		return true, p.Restock(quantity)
	})
	return p, err
}

// Reservation returns what the inventory knows of an order.
func (s *Service) Reservation(ctx context.Context, orderID string) (Reservation, error) {
	return s.store.Reservation(ctx, orderID)
}

// OrderCreated reserves every line of a new order or none, then publishes
// the outcome.
//
// The first delivery inserts the order's record, reserving; the lines are
// then reserved one product at a time, in SKU order. When all are, the
// record moves to reserved. When one cannot be (unknown_product,
// out_of_stock), the record moves to rejecting with the reasons, what was
// reserved is given back, and the record moves to rejected. Every delivery
// that finds the record in the middle carries it on, so concurrent and
// repeated deliveries converge on one answer.
//
// A record with no outcome that is released is a tombstone: the order was
// cancelled before this event arrived. Nothing is reserved; the order is
// answered rejected with order_cancelled on every line.
//
// The outcome is published only once it is stored, and again on every
// redelivery, so a failure after the write is repaired by the event's
// redelivery.
func (s *Service) OrderCreated(ctx context.Context, orderID string, items []Line) error {
	if !ValidOrderID(orderID) {
		return fmt.Errorf("%w: order id %q", ErrMalformed, orderID)
	}
	lines, err := MergeLines(items)
	if err != nil {
		return fmt.Errorf("order %s: %w", orderID, err)
	}
	r, err := s.record(ctx, NewReservation(orderID, lines))
	if err != nil {
		return err
	}
	if r.Status == StatusReleased && !r.Final() {
		r, err = s.move(ctx, r, func(r Reservation) (Reservation, bool, error) {
			if r.Status != StatusReleased || r.Final() {
				return r, false, nil
			}
			answered, err := r.AnswerCancelled(lines)
			return answered, err == nil, err
		})
		if err != nil {
			return err
		}
	}
	// Sweep a rejected order even when found rejected: an earlier delivery
	// may have reserved a line after another one decided the rejection,
	// and failed before giving it back.
	if r, err = s.settle(ctx, r, true); err != nil {
		return err
	}
	if !r.Final() {
		return fmt.Errorf("order %s: reservation is %s after order.created: %w", orderID, r.Status, ErrInvariant)
	}
	if err := s.pub.PublishOutcome(ctx, r); err != nil {
		return fmt.Errorf("order %s: publish %s: %w", orderID, r.Outcome, err)
	}
	s.published.Add(1)
	return nil
}

// OrderConfirmed turns the order's reserved units into sold ones: the
// record moves reserved -> committing, every line is committed, and the
// record moves to committed.
//
// The saga confirms only an order the inventory reserved, so confirmation
// of an order with no reservation, or a rejected one, can never succeed: it
// is ErrNotApplicable (retrying would block the topic for nothing). A
// committed order is a redelivery, and a released (or releasing) one was
// cancelled first (events of one order may arrive in any order): the
// cancellation stands, and both change nothing.
func (s *Service) OrderConfirmed(ctx context.Context, orderID string) error {
	if !ValidOrderID(orderID) {
		return fmt.Errorf("%w: order id %q", ErrMalformed, orderID)
	}
	r, err := s.store.Reservation(ctx, orderID)
	if errors.Is(err, ErrNotFound) {
		return fmt.Errorf("%w: order %s was confirmed but never reserved", ErrNotApplicable, orderID)
	}
	if err != nil {
		return err
	}
	if r, err = s.settleCreated(ctx, r); err != nil {
		return err
	}
	if r.Status == StatusRejected {
		return fmt.Errorf("%w: order %s was confirmed but its reservation was rejected", ErrNotApplicable, orderID)
	}
	r, err = s.move(ctx, r, func(r Reservation) (Reservation, bool, error) {
		if r.Status != StatusReserved {
			return r, false, nil
		}
		committing, err := r.To(StatusCommitting)
		return committing, err == nil, err
	})
	if err != nil {
		return err
	}
	_, err = s.settle(ctx, r, false)
	return err
}

// ReasonTimeout is the reason of the order.cancelled that ordersvc's saga
// timer publishes.
const ReasonTimeout = "saga_timeout"

// OrderCancelled gives the order's units back, reserved units as well as
// sold ones (a confirmed order that is cancelled is refunded): the record
// moves to releasing, remembering where the units were held, every line is
// released, and the record moves to released.
//
// A cancelled order with no reservation yet had its order.created still on
// the way: a released record with no outcome is recorded as a tombstone,
// so that the late order.created reserves nothing. A rejected or released
// order holds nothing: no change. A saga timeout cannot cancel an order
// that was confirmed: the inventory ignores its order.cancelled (ordersvc
// does not publish one, but a lost write of its outbox can).
func (s *Service) OrderCancelled(ctx context.Context, orderID, reason string) error {
	if !ValidOrderID(orderID) {
		return fmt.Errorf("%w: order id %q", ErrMalformed, orderID)
	}
	r, err := s.record(ctx, Tombstone(orderID))
	if err != nil {
		return err
	}
	if r.Status == StatusReleased && !r.Final() && r.Version == "" {
		return nil // this delivery inserted the tombstone
	}
	if r, err = s.settleCreated(ctx, r); err != nil {
		return err
	}
	r, err = s.move(ctx, r, func(r Reservation) (Reservation, bool, error) {
		switch r.Status {
		case StatusCommitting, StatusCommitted:
			if reason == ReasonTimeout {
				return r, false, nil
			}
		case StatusReserved:
		default:
			return r, false, nil
		}
		releasing, err := r.To(StatusReleasing)
		return releasing, err == nil, err
	})
	if err != nil {
		return err
	}
	_, err = s.settle(ctx, r, false)
	return err
}

// record reads the order's reservation, or inserts r when there is none.
// The returned reservation has an empty Version when this call inserted
// it (callers use it only to tell who inserted it).
func (s *Service) record(ctx context.Context, r Reservation) (Reservation, error) {
	var got Reservation
	err := s.retry(ctx, "reservation "+r.OrderID, func() error {
		var err error
		got, err = s.store.Reservation(ctx, r.OrderID)
		if !errors.Is(err, ErrNotFound) {
			return err
		}
		if err := s.store.SaveReservation(ctx, r); err != nil {
			return err
		}
		got = r
		if r.Status == StatusReleased {
			s.outcomes[countReleased].Add(1)
		}
		return nil
	})
	return got, err
}

// move makes one move of the order's record: f decides it from the record
// as read (false: no move, the record stays as it is), and the write is
// guarded by the version read. A lost race reads the record again and asks
// f again. It returns the record as it stands after the move, or as f left
// it: with the version it was read with, or none after this call wrote it
// (a store write does not tell the new version).
func (s *Service) move(ctx context.Context, r Reservation, f func(r Reservation) (Reservation, bool, error)) (Reservation, error) {
	fresh := r.Version != "" // a record this delivery wrote has no version to guard with
	err := s.retry(ctx, "order "+r.OrderID, func() error {
		if !fresh {
			var err error
			if r, err = s.store.Reservation(ctx, r.OrderID); err != nil {
				return err
			}
		}
		fresh = false
		next, write, err := f(r)
		if err != nil || !write {
			return err
		}
		if err := s.store.SaveReservation(ctx, next); err != nil {
			return err
		}
		s.count(r, next)
		r = next
		r.Version = ""
		return nil
	})
	return r, err
}

// count counts the reservations that reached a state, once: only the
// delivery whose write made the move counts it.
func (s *Service) count(from, to Reservation) {
	switch {
	case to.Status == StatusReserved:
		s.outcomes[countReserved].Add(1)
	case to.Status == StatusRejected, to.Status == StatusReleased && !from.Final() && to.Final():
		s.outcomes[countRejected].Add(1)
	case to.Status == StatusCommitted:
		s.outcomes[countCommitted].Add(1)
	case to.Status == StatusReleased:
		s.outcomes[countReleased].Add(1)
	}
}

// settle carries the order's record through its transitional statuses to
// a resting one (reserved, rejected, committed, released): it applies the
// step of the status it finds to every line, then makes the move that ends
// it, and so on while a move leads to another transitional status. A
// record found moved by someone else is carried on from there.
//
// sweep asks for the rejected order's products to be swept for lines
// still reserved (see OrderCreated); a delivery that reserved lines and
// then found the order rejected sweeps anyway.
func (s *Service) settle(ctx context.Context, r Reservation, sweep bool) (Reservation, error) {
	for {
		var (
			to         Status
			rejections []Rejection
			err        error
		)
		switch r.Status {
		case StatusReserving:
			sweep = true
			if rejections, err = s.reserveLines(ctx, r); err != nil {
				return r, err
			}
			to = StatusReserved
			if len(rejections) > 0 {
				to = StatusRejecting
			}
		case StatusRejecting:
			if err := s.unreserveLines(ctx, r); err != nil {
				return r, err
			}
			sweep = false
			to = StatusRejected
		case StatusCommitting:
			if err := s.eachLine(ctx, r, StepCommit, func(p *Product, q int64) (bool, error) { return p.Commit(r.OrderID, q) }); err != nil {
				return r, err
			}
			to = StatusCommitted
		case StatusReleasing:
			if err := s.eachLine(ctx, r, StepRelease, func(p *Product, q int64) (bool, error) { return p.Release(r.OrderID, q, r.From) }); err != nil {
				return r, err
			}
			to = StatusReleased
		case StatusRejected:
			if sweep {
				if err := s.unreserveLines(ctx, r); err != nil {
					return r, err
				}
			}
			return r, nil
		case StatusReserved, StatusCommitted, StatusReleased:
			return r, nil
		default:
			return r, fmt.Errorf("order %s: unknown reservation status %q: %w", r.OrderID, r.Status, ErrInvariant)
		}
		from := r.Status
		r, err = s.move(ctx, r, func(cur Reservation) (Reservation, bool, error) {
			if cur.Status != from {
				return cur, false, nil // moved by another delivery: carry on from there
			}
			if to == StatusRejecting {
				next, err := cur.Reject(rejections)
				return next, err == nil, err
			}
			next, err := cur.To(to)
			return next, err == nil, err
		})
		if err != nil {
			return r, err
		}
	}
}

// settleCreated finishes what order.created started, when a delivery of
// it is under way or failed half way: an order is confirmed or cancelled
// once it is reserved or rejected.
func (s *Service) settleCreated(ctx context.Context, r Reservation) (Reservation, error) {
	if r.Status != StatusReserving && r.Status != StatusRejecting {
		return r, nil
	}
	return s.settle(ctx, r, false)
}

// reserveLines reserves the order's lines in SKU order and stops at the
// first that cannot be reserved; it then tells every line that cannot be
// reserved now, without reserving the rest, so that the rejection names
// them all.
func (s *Service) reserveLines(ctx context.Context, r Reservation) ([]Rejection, error) {
	var rejections []Rejection
	for i, l := range r.Lines {
		_, _, err := s.update(ctx, "reserve "+l.SKU+" for order "+r.OrderID, l.SKU, func(p *Product) (bool, error) {
			return p.Reserve(r.OrderID, l.Quantity)
		})
		switch {
		case errors.Is(err, ErrNotFound):
			rejections = append(rejections, Rejection{SKU: l.SKU, Reason: ReasonUnknownProduct})
		case errors.Is(err, ErrOutOfStock):
			rejections = append(rejections, Rejection{SKU: l.SKU, Reason: ReasonOutOfStock})
		case err != nil:
			return nil, err
		default:
			continue
		}
		rest := r.Lines[i+1:]
		products, err := s.store.Products(ctx, SKUs(rest))
		if err != nil {
			return nil, err
		}
		for _, l := range rest {
			p, ok := products[l.SKU]
			switch {
			case !ok:
				rejections = append(rejections, Rejection{SKU: l.SKU, Reason: ReasonUnknownProduct})
			case p.Available < l.Quantity && !p.Applied(r.OrderID, StepReserve):
				rejections = append(rejections, Rejection{SKU: l.SKU, Reason: ReasonOutOfStock})
			}
		}
		return rejections, nil
	}
	return nil, nil
}

// unreserveLines gives back every line the rejected order reserved.
func (s *Service) unreserveLines(ctx context.Context, r Reservation) error {
	products, err := s.store.Products(ctx, SKUs(r.Lines))
	if err != nil {
		return err
	}
	for _, l := range r.Lines {
		if p, ok := products[l.SKU]; !ok || !p.Applied(r.OrderID, StepReserve) || p.Applied(r.OrderID, StepUnreserve) {
			continue
		}
		_, _, err := s.update(ctx, "unreserve "+l.SKU+" for order "+r.OrderID, l.SKU, func(p *Product) (bool, error) {
			return p.Unreserve(r.OrderID, l.Quantity)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// eachLine applies one step to the product of every line. A product the
// order holds units of that does not exist means the stored state is
// corrupt.
func (s *Service) eachLine(ctx context.Context, r Reservation, step Step, f func(p *Product, quantity int64) (bool, error)) error {
	for _, l := range r.Lines {
		_, _, err := s.update(ctx, fmt.Sprintf("%s %s for order %s", step, l.SKU, r.OrderID), l.SKU, func(p *Product) (bool, error) {
			return f(p, l.Quantity)
		})
		if errors.Is(err, ErrNotFound) {
			return fmt.Errorf("order %s holds %s, which does not exist: %w", r.OrderID, l.SKU, ErrInvariant)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// update is the optimistic-concurrency loop of one product: read it with
// its version, apply f, and write it guarded by the version when f changed
// it; a lost race reads it again. It returns the product as it stands and
// whether this call changed it.
func (s *Service) update(ctx context.Context, op, sku string, f func(p *Product) (bool, error)) (Product, bool, error) {
	var (
		p       Product
		changed bool
	)
	err := s.retry(ctx, op, func() error {
		var err error
		if p, err = s.store.Product(ctx, sku); err != nil {
			return err
		}
		if changed, err = f(&p); err != nil || !changed {
			return err
		}
		return s.store.SaveProduct(ctx, p)
	})
	return p, changed, err
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
