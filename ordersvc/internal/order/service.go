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
)

// Store keeps orders. Writes that start the saga commit with their event
// through the store's transactional outbox: one order key per transaction.
type Store interface {
	Get(ctx context.Context, id string) (Order, error)
	// Create inserts o together with its outbox event; it reports
	// ErrConflict when an order with that id exists.
	Create(ctx context.Context, o Order, event any) error
	// Update reads the order, applies fn and writes it back guarded by the
	// ETag, retrying on conflict. When fn returns an event, it commits with
	// the write through the outbox. fn returning ErrUnchanged writes nothing.
	Update(ctx context.Context, id string, fn func(*Order) (event any, err error)) (Order, error)
	// ClaimKey records that the user's idempotency key names orderID, unless
	// the key was claimed before: then it returns the earlier claim.
	ClaimKey(ctx context.Context, userID, key, orderID, requestHash string) (claimedID, claimedHash string, err error)
	// Index lists the order under its user, among all orders and among
	// pending orders. Adding an order that is listed already is a no-op.
	Index(ctx context.Context, o Order) error
	// List returns orders newest first: the user's, or everyone's when
	// userID is "". It continues after the order id `after`.
	List(ctx context.Context, userID, after string, limit int) (orders []Order, next string, err error)
	// Pending lists the ids indexed as pending; Unpend removes some.
	Pending(ctx context.Context) ([]string, error)
	Unpend(ctx context.Context, ids []string) error
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

// Publisher publishes the events of event-triggered steps (no outbox: the
// triggering message is acknowledged only after the publish succeeded).
type Publisher interface {
	Publish(ctx context.Context, event any) error
}

// Service runs the order use cases and the saga steps of ordersvc.
type Service struct {
	store     Store
	inventory Inventory
	payments  Payments
	publisher Publisher
	now       func() time.Time
}

// NewService returns the order service.
func NewService(store Store, inventory Inventory, payments Payments, publisher Publisher, now func() time.Time) *Service {
	if now == nil {
		now = func() time.Time { return time.Now().UTC() }
	}
	return &Service{store: store, inventory: inventory, payments: payments, publisher: publisher, now: now}
}

// PlaceRequest is a customer's new order.
type PlaceRequest struct {
	UserID         string
	IdempotencyKey string
	Lines          []Line
	CardToken      string
}

// InvalidError lists the bad fields of a request.
type InvalidError struct{ Fields []FieldError }

func (e *InvalidError) Error() string { return fmt.Sprintf("invalid request: %v", e.Fields) }

// Place validates and prices a new order, stores it pending and starts the
// saga (order.created through the outbox). With an idempotency key, the same
// user sending the same request again gets the same order.
func (s *Service) Place(ctx context.Context, req PlaceRequest) (Order, error) {
	errs := ValidateLines(req.Lines)
	if !s.payments.KnownToken(req.CardToken) {
		errs = append(errs, FieldError{"payment.card_token", "is not a card token the payment provider knows"})
	}
	if len(errs) > 0 {
		return Order{}, &InvalidError{errs}
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
			// Waiting first keeps racing duplicates from sending inserts that
			// are bound to fail, each of which costs the outbox a wait.
			o, err := s.awaitOrder(ctx, claimedID)
			if err == nil {
				return o, nil
			}
			if !errors.Is(err, ErrNotFound) {
				return Order{}, err
			}
			id = claimedID
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
		var errs []FieldError
		for i, l := range req.Lines {
			if slices.Contains(missing, l.SKU) {
				errs = append(errs, FieldError{fmt.Sprintf("items[%d].sku", i), "no product with this sku"})
			}
		}
		return Order{}, &InvalidError{errs}
	}
	now := s.now()
	o := Order{ID: id, UserID: req.UserID, Status: StatusPending, CardToken: req.CardToken, RequestHash: hash, CreatedAt: now, UpdatedAt: now}
	for _, l := range req.Lines {
		o.Items = append(o.Items, Item{SKU: l.SKU, Quantity: l.Quantity, UnitPriceCents: prices[l.SKU]})
		o.TotalCents += l.Quantity * prices[l.SKU]
	}
	// Index first: an indexed id whose order never got written is skipped
	// on reads, while an order missing from the indexes would be lost.
	if err := s.store.Index(ctx, o); err != nil {
		return Order{}, err
	}
	if req.IdempotencyKey != "" {
		// Looked for once more just before the insert: a store without
		// transaction rollback (Redis) does not refuse an insert of an
		// existing key inside the outbox transaction.
		if existing, err := s.store.Get(ctx, o.ID); err == nil {
			return existing, nil
		} else if !errors.Is(err, ErrNotFound) {
			return Order{}, err
		}
	}
	err = s.store.Create(ctx, o, CreatedEvent(o))
	if errors.Is(err, ErrConflict) {
		return s.store.Get(ctx, o.ID)
	}
	if err != nil {
		return Order{}, err
	}
	return o, nil
}

// claimWait is how long a duplicate request waits for the order of the
// request that claimed its idempotency key.
const claimWait = 3 * time.Second

// awaitOrder polls for the order until it exists or claimWait passes.
func (s *Service) awaitOrder(ctx context.Context, id string) (Order, error) {
	ctx, cancel := context.WithTimeout(ctx, claimWait)
	defer cancel()
	for {
		o, err := s.store.Get(ctx, id)
		if !errors.Is(err, ErrNotFound) {
			return o, err
		}
		select {
		case <-ctx.Done():
			return Order{}, err
		case <-time.After(50 * time.Millisecond):
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

// Get returns the order for its owner or an admin; anyone else gets
// ErrNotFound, as if it did not exist.
func (s *Service) Get(ctx context.Context, id, userID string, admin bool) (Order, error) {
	o, err := s.store.Get(ctx, id)
	if err != nil {
		return Order{}, err
	}
	if !admin && o.UserID != userID {
		return Order{}, fmt.Errorf("order %s: %w", id, ErrNotFound)
	}
	return o, nil
}

// Cancel cancels the caller's pending or confirmed order; order.cancelled
// commits with it through the outbox and gives the stock back; ordersvc's own
// handler of that event refunds the payment.
func (s *Service) Cancel(ctx context.Context, id, userID string, admin bool) (Order, error) {
	if _, err := s.Get(ctx, id, userID, admin); err != nil {
		return Order{}, err
	}
	return s.store.Update(ctx, id, func(o *Order) (any, error) {
		if err := o.Cancel(ReasonCustomer, s.now()); err != nil {
			return nil, err
		}
		return CancelledEvent(*o), nil
	})
}

// OnReserved is the saga step after the stock of an order is reserved:
// charge the card, then confirm the order, or cancel it if the card is
// declined. The outcome is published before the caller acknowledges the
// reservation event; a redelivery publishes the same outcome again.
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
		o, err = s.store.Update(ctx, orderID, func(o *Order) (any, error) {
			var changed bool
			if approved {
				changed = o.Confirm(s.now())
			} else {
				changed = o.Cancel(ReasonPaymentDeclined, s.now()) == nil && o.Status == StatusCancelled
			}
			if !changed {
				return nil, ErrUnchanged
			}
			return nil, nil
		})
		if err != nil {
			return err
		}
	}
	switch o.Status {
	case StatusConfirmed:
		return s.publisher.Publish(ctx, ConfirmedEvent(o))
	case StatusCancelled:
		// Cancelled before or while the reservation arrived (customer,
		// timeout, declined card): give the stock back and any charge.
		if err := s.payments.Refund(ctx, o.ID); err != nil {
			return fmt.Errorf("refund order %s: %w", o.ID, err)
		}
		return s.publisher.Publish(ctx, CancelledEvent(o))
	default:
		return nil
	}
}

// OnRejected is the saga step after the inventory could not reserve an
// order: the order is rejected. Nothing is published.
func (s *Service) OnRejected(ctx context.Context, orderID, reason string) error {
	_, err := s.store.Update(ctx, orderID, func(o *Order) (any, error) {
		if !o.Reject(reason, s.now()) {
			return nil, ErrUnchanged
		}
		return nil, nil
	})
	return err
}

// OnCancelled refunds the payment of a cancelled order, if it was charged.
// It checks the order first: on a store without transaction rollback
// (Redis), an outbox write that lost its ETag race can still publish its
// event, so an order.cancelled may arrive for an order that is not.
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

// Sweep cancels the pending orders older than timeout (the saga timed out)
// and drops orders that are no longer pending from the pending index. It
// returns how many orders it cancelled.
func (s *Service) Sweep(ctx context.Context, timeout time.Duration) (int, error) {
	ids, err := s.store.Pending(ctx)
	if err != nil {
		return 0, err
	}
	var done []string
	cancelled := 0
	for _, id := range ids {
		o, err := s.store.Get(ctx, id)
		if errors.Is(err, ErrNotFound) {
			// Indexed but never created (a crash in between); keep it a
			// while in case the create is still under way.
			if t, ok := IDTime(id); ok && s.now().Sub(t) > 2*timeout {
				done = append(done, id)
			}
			continue
		}
		if err != nil {
			return cancelled, err
		}
		if o.Status == StatusPending && s.now().Sub(o.CreatedAt) > timeout {
			o, err = s.store.Update(ctx, id, func(o *Order) (any, error) {
				if o.Status != StatusPending {
					return nil, ErrUnchanged
				}
				if err := o.Cancel(ReasonTimeout, s.now()); err != nil {
					return nil, err
				}
				return CancelledEvent(*o), nil
			})
			if err != nil {
				return cancelled, err
			}
			if o.StatusReason == ReasonTimeout {
				cancelled++
			}
		}
		if o.Status != StatusPending {
			done = append(done, id)
		}
	}
	if len(done) > 0 {
		if err := s.store.Unpend(ctx, done); err != nil {
			return cancelled, err
		}
	}
	return cancelled, nil
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

// List returns a user's orders, or everyone's when userID is "", newest
// first, after the order id `after`.
func (s *Service) List(ctx context.Context, userID, after string, limit int) ([]Order, string, error) {
	return s.store.List(ctx, userID, after, limit)
}
