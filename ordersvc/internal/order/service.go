package order

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"shop/platform/validation"
)

// Store keeps orders and their indexes. Every write is one key: an insert
// that fails when the key exists, or a read-modify-write guarded by the
// value read. Nothing relies on two keys changing together.
type Store interface {
	Get(ctx context.Context, id string) (Order, error)
	// Orders reads the orders with the given ids; absent ones are left out.
	Orders(ctx context.Context, ids []string) (map[string]Order, error)
	// Insert stores a new order; ErrConflict when one with its id exists,
	// which is left as it is.
	Insert(ctx context.Context, o Order) error
	// Update reads the order, applies fn and writes it back if it did not
	// change since it was read, retrying on conflict; fn may run more than
	// once. fn returning ErrUnchanged writes nothing and Update returns the
	// order as read.
	Update(ctx context.Context, id string, fn func(*Order) error) (Order, error)
	// ClearEvents removes the events with the given ids from the order's
	// outbox (those only: an event added since stays). An order without
	// them is left as it is.
	ClearEvents(ctx context.Context, id string, eventIDs []string) error
	// ClaimKey records that the user's idempotency key names orderID,
	// unless the key was claimed before: then it returns the earlier claim.
	ClaimKey(ctx context.Context, userID, key, orderID, requestHash string) (claimedID, claimedHash string, err error)
	// Index lists the order under its user, among all orders, and among
	// those the sweep looks after (as Watch does). Listing an order that
	// is listed already is harmless.
	Index(ctx context.Context, o Order, now time.Time) error
	// List returns a page of orders, about newest first: the user's, or
	// everyone's when userID is "". cursor is "" or a next cursor that List
	// returned; ErrBadCursor otherwise.
	List(ctx context.Context, userID, cursor string, limit int) (orders []Order, next string, err error)
	// ValidCursor reports whether cursor has the form of one List returns.
	ValidCursor(cursor string) bool
	// Watch lists the order among those the sweep looks after: orders with
	// saga work or an unpublished event. Watching it again renews its mark.
	Watch(ctx context.Context, id string, now time.Time) error
	// Watched returns what Watch listed.
	Watched(ctx context.Context) ([]Watch, error)
	// Unwatch removes entries whose mark is still the one read: an order
	// watched again since then stays.
	Unwatch(ctx context.Context, entries []Watch) error
}

// Watch is an entry of the sweep's index: an order id and the mark of the
// Watch call that listed it.
type Watch struct {
	OrderID string
	Mark    string
	Since   time.Time
}

// ErrUnchanged tells Store.Update that fn decided to write nothing.
var ErrUnchanged = errors.New("unchanged")

// Inventory prices products.
type Inventory interface {
	// Prices returns the unit price of each known SKU and lists the unknown.
	Prices(ctx context.Context, skus []string) (prices map[string]int64, missing []string, err error)
}

// Payments charges and refunds cards. Both are idempotent per order.
type Payments interface {
	KnownToken(token string) bool
	Charge(ctx context.Context, orderID, cardToken string, amountCents int64) (approved bool, err error)
	Refund(ctx context.Context, orderID string) error
}

// Publisher publishes an event of an order, with the order id as its
// partition key.
type Publisher interface {
	Publish(ctx context.Context, orderID string, event any) error
}

// RelayAfter is how old an event still in an order's outbox must be before
// the sweep publishes it: older than the time a request takes to publish
// and clear its own event, so that the relay mostly finds only the events
// of requests that crashed in between.
const RelayAfter = 3 * time.Second

// PublishWait bounds how long a write waits for the publish of its event
// (and its clear from the record) right after the commit. With the broker
// unreachable, the sidecar would retry the publish for up to its
// Resiliency timeout; the request answers instead, and the sweep publishes
// the event from the record once the broker is back. It is below
// RelayAfter, so that the sweep seldom publishes an event whose request is
// still publishing it.
const PublishWait = 2 * time.Second

// Service runs the order use cases and the saga steps of ordersvc.
//
// Writes started by the API (place, cancel) and the saga timeout keep the
// event they cause inside the order's record, written in the same single-key
// write; right after that write commits, the service publishes the event
// and removes it from the record. The sweep publishes events that stayed in
// a record longer than RelayAfter (the process died in between). An event
// is published only if the write that stored it committed. Steps triggered
// by an event (inventory.reserved, inventory.rejected) save the order,
// publish their outcome, and only then let the triggering event be
// acknowledged: a crash means a redelivery, which publishes the same
// outcome again.
type Service struct {
	store       Store
	inventory   Inventory
	payments    Payments
	publisher   Publisher
	now         func() time.Time
	afterCommit func(eventType string)
	afterClaim  func(ctx context.Context)
	report      func(ctx context.Context, err error)
	outcome     func(ctx context.Context, from Status, o Order)
}

// Option changes a Service.
type Option func(*Service)

// WithClock sets the service's clock (tests).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithAfterCommit sets a function called right after an order record that
// carries a new event is committed, before the event is published. It is a
// fault hook for tests of the relay (a process that dies at that point).
func WithAfterCommit(f func(eventType string)) Option {
	return func(s *Service) { s.afterCommit = f }
}

// WithAfterClaim sets a function called after a request claimed a new
// Idempotency-Key and before it creates the order. It is a fault hook for
// tests of a duplicate request racing a slow original.
func WithAfterClaim(f func(ctx context.Context)) Option {
	return func(s *Service) { s.afterClaim = f }
}

// WithReport sets where failures go that the service repairs later itself
// (an event left for the relay); by default they are dropped.
func WithReport(f func(ctx context.Context, err error)) Option {
	return func(s *Service) { s.report = f }
}

// WithOutcome sets a function called after this service's write moved an
// order from status from to o.Status (confirmed, rejected, cancelled):
// once per move, whichever replica or redelivery made it. Metrics count
// outcomes with it.
func WithOutcome(f func(ctx context.Context, from Status, o Order)) Option {
	return func(s *Service) { s.outcome = f }
}

// NewService returns the order service.
func NewService(store Store, inventory Inventory, payments Payments, publisher Publisher, opts ...Option) *Service {
	s := &Service{store: store, inventory: inventory, payments: payments, publisher: publisher,
		now:         func() time.Time { return time.Now().UTC() },
		afterCommit: func(string) {},
		afterClaim:  func(context.Context) {},
		report:      func(context.Context, error) {},
		outcome:     func(context.Context, Status, Order) {},
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// PlaceRequest is a customer's new order.
type PlaceRequest struct {
	UserID         string
	IdempotencyKey string
	Lines          []Line
	CardToken      string
}

// Place validates and prices a new order, stores it pending with its
// order.created and publishes that. With an idempotency key, the same user
// sending the same request again gets the same order.
//
// Write sequence and its crash points:
//  1. the idempotency claim (insert of one key). A crash after it leaves a
//     claim without an order: a retry with the key waits briefly for the
//     order, then creates it under the claimed id.
//  2. the sweep's index entry (Watch), the user's and the all-orders index
//     pages, written at once. A crash after any of them leaves ids whose
//     order does not exist: listings skip them, the sweep drops its entry
//     after a while.
//  3. the order with order.created in its outbox (insert of one key: it
//     never overwrites an order, so a duplicate request racing the original
//     cannot reset it). A crash after it leaves the event in the record:
//     the sweep publishes it after RelayAfter.
//  4. publish order.created, then remove it from the record (guarded by the
//     value read). A crash in between publishes it once more from the
//     sweep; consumers are idempotent.
func (s *Service) Place(ctx context.Context, req PlaceRequest) (Order, error) {
	errs := ValidateLines(req.Lines)
	if !s.payments.KnownToken(req.CardToken) {
		errs.Add("payment.card_token", "is not a card token the payment provider knows")
	}
	if req.IdempotencyKey != "" && !ValidKeyPart(req.IdempotencyKey) {
		errs.Add("Idempotency-Key", fmt.Sprintf("must be at most %d characters, without control characters or \"||\"", MaxKeyLen))
	}
	if !ValidKeyPart(req.UserID) {
		errs.Add("Authorization", "the token's subject cannot name an account")
	}
	if len(errs) > 0 {
		return Order{}, errs
	}
	hash := requestHash(req)
	id := NewID(s.now())
	if req.IdempotencyKey != "" {
		claimedID, claimedHash, err := s.store.ClaimKey(ctx, req.UserID, req.IdempotencyKey, id, hash)
		if err != nil {
			return Order{}, err
		}
		if claimedHash != hash {
			return Order{}, ErrKeyReused
		}
		if claimedID != id {
			// An earlier request with this key won. It is creating the
			// order, or crashed before it did: wait a little for the order,
			// then create it with the same id (the insert lets one through).
			o, err := s.awaitOrder(ctx, claimedID)
			if err == nil {
				return o, nil
			}
			if !errors.Is(err, ErrNotFound) {
				return Order{}, err
			}
			id = claimedID
		} else {
			s.afterClaim(ctx)
		}
	}
	skus := make([]string, len(req.Lines))
	for i, l := range req.Lines {
		skus[i] = l.SKU
	}
	prices, missing, err := s.inventory.Prices(ctx, skus)
	if err != nil {
		return Order{}, fmt.Errorf("price lookup: %w", err)
	}
	if len(missing) > 0 {
		var errs validation.Errors
		for i, l := range req.Lines {
			if slices.Contains(missing, l.SKU) {
				errs.Add(fmt.Sprintf("items[%d].sku", i), "no product with this sku")
			}
		}
		return Order{}, errs
	}
	now := s.now()
	o := Order{ID: id, UserID: req.UserID, Status: StatusPending, CardToken: req.CardToken, RequestHash: hash, CreatedAt: now, UpdatedAt: now}
	for _, l := range req.Lines {
		o.Items = append(o.Items, Item{SKU: l.SKU, Quantity: l.Quantity, UnitPriceCents: prices[l.SKU]})
		o.TotalCents += l.Quantity * prices[l.SKU]
	}
	created := o.record(TypeOrderCreated, "", now)
	// Indexes first: an indexed id whose order never got written is skipped,
	// while an order missing from the indexes would be lost to its owner
	// and to the sweep.
	if err := s.store.Index(ctx, o, now); err != nil {
		return Order{}, err
	}
	err = s.store.Insert(ctx, o)
	if errors.Is(err, ErrConflict) {
		// The request that claimed the key got there first: its order
		// stands as it is.
		return s.store.Get(ctx, o.ID)
	}
	if err != nil {
		return Order{}, err
	}
	return s.published(ctx, o, created), nil
}

// published runs right after o, carrying its new event e, was committed:
// it publishes the events of o's outbox, e last (an older one left by a
// failure goes first, so that one order's events keep their order), and
// removes them from the record. A failure is reported and left to the
// sweep, which publishes them later; the order is committed either way. It
// returns the order as it stands.
func (s *Service) published(ctx context.Context, o Order, e Event) Order {
	s.afterCommit(e.Type)
	ctx, cancel := context.WithTimeout(ctx, PublishWait)
	defer cancel()
	cleared, err := s.flush(ctx, o, o.Outbox)
	if err != nil {
		s.report(ctx, fmt.Errorf("order %s: %s left for the relay: %w", o.ID, e.Type, err))
		return o
	}
	return cleared
}

// flush publishes events of o, in order, and then removes them from its
// record (only those: an event added since stays). It returns o without
// them.
func (s *Service) flush(ctx context.Context, o Order, events []Event) (Order, error) {
	ids := make([]string, 0, len(events))
	for _, e := range events {
		if err := s.publisher.Publish(ctx, o.ID, o.Message(e)); err != nil {
			return o, fmt.Errorf("publish %s: %w", e.Type, err)
		}
		ids = append(ids, e.ID)
	}
	if err := s.store.ClearEvents(ctx, o.ID, ids); err != nil {
		return o, err
	}
	o.Outbox = slices.Clone(o.Outbox)
	o.Clear(ids)
	return o, nil
}

// claimWait is how long a duplicate request waits for the order of the
// request that claimed its idempotency key.
const claimWait = 3 * time.Second

// awaitOrder polls for the order until it exists or claimWait passes;
// then it reports ErrNotFound. Each read runs with the request's context,
// so that the wait's end does not cut a read short.
func (s *Service) awaitOrder(ctx context.Context, id string) (Order, error) {
	deadline := time.NewTimer(claimWait)
	defer deadline.Stop()
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		o, err := s.store.Get(ctx, id)
		if !errors.Is(err, ErrNotFound) {
			return o, err
		}
		select {
		case <-ctx.Done():
			return Order{}, ctx.Err()
		case <-deadline.C:
			return Order{}, err
		case <-t.C:
		}
	}
}

// requestHash fingerprints what a request asks for, to tell a retry from a
// different request under the same idempotency key.
func requestHash(req PlaceRequest) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00", req.CardToken)
	for _, l := range req.Lines {
		fmt.Fprintf(h, "%s\x00%d\x00", l.SKU, l.Quantity)
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// NewID returns a new order id that sorts by creation time.
func NewID(now time.Time) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("o%012x%s", now.UnixMilli(), hex.EncodeToString(b[:]))
}

func newEventID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "e" + hex.EncodeToString(b[:])
}

// Get returns the order for its owner or an admin; anyone else gets
// ErrNotFound, as if it did not exist.
func (s *Service) Get(ctx context.Context, id, userID string, admin bool) (Order, error) {
	if !ValidID(id) {
		return Order{}, fmt.Errorf("order %q: %w", id, ErrNotFound)
	}
	o, err := s.store.Get(ctx, id)
	if err != nil {
		return Order{}, err
	}
	if !admin && o.UserID != userID {
		return Order{}, fmt.Errorf("order %s: %w", id, ErrNotFound)
	}
	return o, nil
}

// Cancel cancels the caller's pending or confirmed order and publishes
// order.cancelled, which gives the stock back; ordersvc's own handler of
// that event refunds the payment.
//
// Write sequence: the sweep's index entry first (the order may have left
// it when it was confirmed), so that the sweep finds the event if the
// process dies before publishing it; then the order, cancelled, with
// order.cancelled in its outbox (one key, guarded by the value read); then
// publish and clear, as in Place.
func (s *Service) Cancel(ctx context.Context, id, userID string, admin bool) (Order, error) {
	if _, err := s.Get(ctx, id, userID, admin); err != nil {
		return Order{}, err
	}
	if err := s.store.Watch(ctx, id, s.now()); err != nil {
		return Order{}, err
	}
	var e Event
	var from Status
	o, err := s.store.Update(ctx, id, func(o *Order) error {
		now := s.now()
		from = o.Status
		if err := o.Cancel(ReasonCustomer, now); err != nil {
			return err
		}
		e = o.record(TypeOrderCancelled, ReasonCustomer, now)
		return nil
	})
	if err != nil {
		return Order{}, err
	}
	s.outcome(ctx, from, o)
	return s.published(ctx, o, e), nil
}

// OnReserved is the saga step after the stock of an order is reserved:
// charge the card, then confirm the order, or cancel it if the card is
// declined. The outcome is published before the caller acknowledges the
// reservation event; a redelivery publishes the same outcome again.
//
// Write sequence: the payment (one ledger key per order, inserted once: a
// second charge answers the first outcome); then the order (one key,
// guarded by the value read); then the publish. A crash after the charge
// charges nothing more on redelivery; one after the order write publishes
// on redelivery. If the saga timeout cancelled the order meanwhile, the
// order write finds it cancelled and changes nothing: the charge is
// refunded and order.cancelled published again, so that the stock goes
// back.
func (s *Service) OnReserved(ctx context.Context, orderID string) error {
	o, err := s.store.Get(ctx, orderID)
	if err != nil {
		return err
	}
	if o.Status == StatusPending {
		approved, err := s.payments.Charge(ctx, o.ID, o.CardToken, o.TotalCents)
		if err != nil {
			return fmt.Errorf("charge order %s: %w", o.ID, err)
		}
		moved := false
		o, err = s.store.Update(ctx, orderID, func(o *Order) error {
			moved = false
			if o.Status != StatusPending {
				return ErrUnchanged
			}
			moved = true
			if approved {
				o.Confirm(s.now())
				return nil
			}
			return o.Cancel(ReasonPaymentDeclined, s.now())
		})
		if err != nil {
			return err
		}
		if moved {
			s.outcome(ctx, StatusPending, o)
		}
	}
	switch o.Status {
	case StatusConfirmed:
		return s.publisher.Publish(ctx, o.ID, ConfirmedEvent(o))
	case StatusCancelled:
		// Cancelled before or while the reservation arrived (customer,
		// timeout, declined card): give the stock back and any charge.
		if err := s.payments.Refund(ctx, o.ID); err != nil {
			return fmt.Errorf("refund order %s: %w", o.ID, err)
		}
		return s.publisher.Publish(ctx, o.ID, CancelledEvent(o))
	default:
		return nil
	}
}

// OnRejected is the saga step after the inventory could not reserve an
// order: the order is rejected (one key). Nothing is published.
func (s *Service) OnRejected(ctx context.Context, orderID, reason string) error {
	moved := false
	o, err := s.store.Update(ctx, orderID, func(o *Order) error {
		moved = o.Reject(reason, s.now())
		if !moved {
			return ErrUnchanged
		}
		return nil
	})
	if err == nil && moved {
		s.outcome(ctx, StatusPending, o)
	}
	return err
}

// OnCancelled refunds the payment of a cancelled order, if it was charged.
func (s *Service) OnCancelled(ctx context.Context, orderID string) error {
	o, err := s.store.Get(ctx, orderID)
	if err != nil {
		return err
	}
	if o.Status != StatusCancelled {
		return nil
	}
	return s.payments.Refund(ctx, orderID)
}

// SweepResult counts what a sweep did.
type SweepResult struct {
	Relayed   int // events published from records (left by a crash)
	TimedOut  int // pending orders cancelled by the saga timeout
	Unwatched int // entries dropped from the sweep's index
	// RelayLag is the age of the oldest event relayed (0: none was).
	RelayLag time.Duration
	// OldestPending is the age of the oldest order still pending after
	// the sweep (0: none is); past the saga timeout, the sweep failed to
	// cancel it.
	OldestPending time.Duration
}

// Sweep is the periodic work of the saga, safe to run in several replicas
// at once: for every order in the sweep's index it publishes events left
// in the record longer than RelayAfter, cancels the order if it has been
// pending longer than timeout, and drops the entry once the order is
// terminal with no event left.
//
// A timeout cancel is one write of the order (guarded by the value read)
// with order.cancelled in its outbox, published right after: if the
// confirm step wrote first, the write finds the order confirmed and
// changes nothing, and nothing is published. Two sweeps publishing the same
// event is harmless: consumers are idempotent.
func (s *Service) Sweep(ctx context.Context, timeout time.Duration) (SweepResult, error) {
	var res SweepResult
	watched, err := s.store.Watched(ctx)
	if err != nil {
		return res, err
	}
	ids := make([]string, len(watched))
	for i, w := range watched {
		ids[i] = w.OrderID
	}
	orders, err := s.store.Orders(ctx, ids)
	if err != nil {
		return res, err
	}
	var done []Watch
	var errs []error
	for _, w := range watched {
		o, ok := orders[w.OrderID]
		if !ok {
			// Indexed but not created (a crash in between, or the insert
			// is still under way): kept a while, then dropped.
			if s.now().Sub(w.Since) > max(2*timeout, time.Minute) {
				done = append(done, w)
			}
			continue
		}
		o, relayed, err := s.sweepOrder(ctx, o, timeout, &res)
		res.Relayed += relayed
		if o.Status == StatusPending {
			res.OldestPending = max(res.OldestPending, s.now().Sub(o.CreatedAt))
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("order %s: %w", o.ID, err))
			continue
		}
		if o.Terminal() && len(o.Outbox) == 0 {
			done = append(done, w)
		}
	}
	if len(done) > 0 {
		if err := s.store.Unwatch(ctx, done); err != nil {
			errs = append(errs, err)
		} else {
			res.Unwatched = len(done)
		}
	}
	return res, errors.Join(errs...)
}

// sweepOrder relays o's stale events and times it out if due.
func (s *Service) sweepOrder(ctx context.Context, o Order, timeout time.Duration, res *SweepResult) (Order, int, error) {
	var stale []Event
	for _, e := range o.Outbox {
		if age := s.now().Sub(e.At); age >= RelayAfter {
			stale = append(stale, e)
			res.RelayLag = max(res.RelayLag, age)
		}
	}
	relayed := 0
	if len(stale) > 0 {
		var err error
		if o, err = s.flush(ctx, o, stale); err != nil {
			return o, 0, err
		}
		relayed = len(stale)
	}
	if o.Status != StatusPending || s.now().Sub(o.CreatedAt) <= timeout {
		return o, relayed, nil
	}
	var e Event
	committed := false
	o, err := s.store.Update(ctx, o.ID, func(o *Order) error {
		committed = false
		if o.Status != StatusPending {
			return ErrUnchanged
		}
		now := s.now()
		if err := o.Cancel(ReasonTimeout, now); err != nil {
			return err
		}
		e = o.record(TypeOrderCancelled, ReasonTimeout, now)
		committed = true
		return nil
	})
	if err != nil || !committed {
		return o, relayed, err
	}
	res.TimedOut++
	s.outcome(ctx, StatusPending, o)
	return s.published(ctx, o, e), relayed, nil
}

// ValidID reports whether id has the shape of an id from NewID.
func ValidID(id string) bool {
	_, ok := IDTime(id)
	return ok && len(id) == 29 && id[0] == 'o' && strings.Trim(id[1:], "0123456789abcdef") == ""
}

// IDTime reads the creation time out of an order id from NewID.
func IDTime(id string) (time.Time, bool) {
	var ms int64
	if len(id) < 13 {
		return time.Time{}, false
	}
	if _, err := fmt.Sscanf(id[1:13], "%x", &ms); err != nil {
		return time.Time{}, false
	}
	return time.UnixMilli(ms), true
}

// List returns a page of the user's orders, or everyone's when userID is
// "", about newest first, from the cursor a previous page returned.
func (s *Service) List(ctx context.Context, userID, cursor string, limit int) ([]Order, string, error) {
	if userID != "" && !ValidKeyPart(userID) {
		return []Order{}, "", nil // no account has this id, so no orders
	}
	return s.store.List(ctx, userID, cursor, limit)
}

// ValidCursor reports whether cursor has the form of a listing's cursor.
func (s *Service) ValidCursor(cursor string) bool { return s.store.ValidCursor(cursor) }
