// Package order is the domain of the order service: orders, their statuses
// and the rules of the order saga. It knows nothing of Dapr or HTTP; it
// declares the interfaces it needs (Store, Inventory, Payments, Publisher).
package order

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"shop/platform/contract"
	"shop/platform/validation"
)

// Status is where an order is in its life.
type Status string

// Statuses. pending -> confirmed | rejected | cancelled; confirmed ->
// cancelled. rejected and cancelled never change.
const (
	StatusPending   Status = "pending"
	StatusConfirmed Status = "confirmed"
	StatusRejected  Status = "rejected"
	StatusCancelled Status = "cancelled"
)

// Reasons recorded in StatusReason: those of order.cancelled, and the
// default of a rejection, as the event contract names them.
const (
	ReasonPaymentDeclined = contract.ReasonPaymentDeclined
	ReasonCustomer        = contract.ReasonCancelledByCustomer
	ReasonTimeout         = contract.ReasonSagaTimeout
	ReasonOutOfStock      = contract.ReasonOutOfStock
)

// Errors of the domain.
var (
	ErrNotFound       = errors.New("order not found")
	ErrConflict       = errors.New("concurrent update")
	ErrNotCancellable = errors.New("order cannot be cancelled")
	// ErrKeyReused is an Idempotency-Key sent again with another request.
	ErrKeyReused = errors.New("idempotency key already used for a different request")
	// ErrBadCursor is a page cursor that no listing returned.
	ErrBadCursor = errors.New("not a page cursor of this listing")
)

// Item is one line of an order, priced by the inventory when the order was
// placed.
type Item struct {
	SKU            string `json:"sku"`
	Quantity       int64  `json:"quantity"`
	UnitPriceCents int64  `json:"unit_price_cents"`
}

// Order is a customer's order and where its saga stands.
type Order struct {
	ID           string    `json:"id"`
	UserID       string    `json:"user_id"`
	Status       Status    `json:"status"`
	StatusReason string    `json:"status_reason,omitempty"`
	Items        []Item    `json:"items"`
	TotalCents   int64     `json:"total_cents"`
	CardToken    string    `json:"card_token"`
	RequestHash  string    `json:"request_hash,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
	// Outbox holds the events committed with the order and not yet known
	// to be published: the order's own outbox (see Service).
	Outbox []Event `json:"outbox,omitempty"`
}

// Event is an event of an order, stored in the order's record by the write
// that caused it, until it is published.
type Event struct {
	ID     string    `json:"id"`
	Type   string    `json:"type"`
	Reason string    `json:"reason,omitempty"`
	At     time.Time `json:"at"`
}

// record adds an event of type typ to the order's outbox and returns it.
func (o *Order) record(typ, reason string, now time.Time) Event {
	e := Event{ID: newEventID(), Type: typ, Reason: reason, At: now}
	o.Outbox = append(o.Outbox, e)
	return e
}

// Message is the data published for e, an event of o (docs/events.md).
func (o Order) Message(e Event) any {
	switch e.Type {
	case TypeOrderCreated:
		return CreatedEvent(o)
	case TypeOrderConfirmed:
		return ConfirmedEvent(o)
	default:
		return contract.OrderCancelled{Type: TypeOrderCancelled, OrderID: o.ID, Reason: e.Reason}
	}
}

// Clear removes the events with the given ids from the outbox and reports
// whether it removed any.
func (o *Order) Clear(ids []string) bool {
	n := len(o.Outbox)
	o.Outbox = slices.DeleteFunc(o.Outbox, func(e Event) bool { return slices.Contains(ids, e.ID) })
	if len(o.Outbox) == 0 {
		o.Outbox = nil
	}
	return len(o.Outbox) != n
}

// Terminal reports whether the saga of o has ended (confirmed orders can
// still be cancelled, but need nothing more from the saga).
func (o *Order) Terminal() bool { return o.Status != StatusPending }

// Confirm marks a pending order paid.
func (o *Order) Confirm(now time.Time) bool {
	if o.Status != StatusPending {
		return false
	}
	o.Status, o.StatusReason, o.UpdatedAt = StatusConfirmed, "", now
	return true
}

// Reject marks a pending order that could not be reserved.
func (o *Order) Reject(reason string, now time.Time) bool {
	if o.Status != StatusPending {
		return false
	}
	o.Status, o.StatusReason, o.UpdatedAt = StatusRejected, reason, now
	return true
}

// Cancel cancels a pending or confirmed order.
func (o *Order) Cancel(reason string, now time.Time) error {
	if o.Status != StatusPending && o.Status != StatusConfirmed {
		return fmt.Errorf("order %s is %s: %w", o.ID, o.Status, ErrNotCancellable)
	}
	o.Status, o.StatusReason, o.UpdatedAt = StatusCancelled, reason, now
	return nil
}

// Line is a requested order line, before pricing.
type Line struct {
	SKU      string
	Quantity int64
}

// Limits of an order.
const (
	MaxLines    = 50
	MaxQuantity = 1000
)

var skuPattern = regexp.MustCompile(`^[A-Z0-9][A-Z0-9-]{1,31}$`)

// ValidateLines checks the requested lines: 1 to MaxLines distinct SKUs,
// each with a quantity from 1 to MaxQuantity.
func ValidateLines(lines []Line) validation.Errors {
	var errs validation.Errors
	if len(lines) == 0 {
		return validation.Errors{{Field: "items", Detail: "must hold at least one line"}}
	}
	if len(lines) > MaxLines {
		return validation.Errors{{Field: "items", Detail: fmt.Sprintf("must hold at most %d lines", MaxLines)}}
	}
	seen := map[string]bool{}
	for i, l := range lines {
		switch {
		case !skuPattern.MatchString(l.SKU):
			errs.Add(fmt.Sprintf("items[%d].sku", i), "must be 2-32 upper-case letters, digits or dashes")
		case seen[l.SKU]:
			errs.Add(fmt.Sprintf("items[%d].sku", i), "appears more than once; use one line per sku")
		}
		seen[l.SKU] = true
		if l.Quantity < 1 || l.Quantity > MaxQuantity {
			errs.Add(fmt.Sprintf("items[%d].quantity", i), fmt.Sprintf("must be from 1 to %d", MaxQuantity))
		}
	}
	return errs
}

// MaxKeyLen bounds an Idempotency-Key, and any caller-given text that
// becomes part of a state key.
const MaxKeyLen = 128

// ValidKeyPart reports whether s can be part of a state key: 1 to
// MaxKeyLen bytes of valid UTF-8, no control or invisible formatting
// characters (zero-width, bidi controls: two keys that look the same are
// the same key), and no "||" (Dapr's separator of app id and key, which
// the sidecar refuses).
func ValidKeyPart(s string) bool {
	return s != "" && len(s) <= MaxKeyLen && utf8.ValidString(s) && !strings.Contains(s, "||") &&
		!strings.ContainsFunc(s, func(r rune) bool {
			return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || unicode.In(r, unicode.Zl, unicode.Zp)
		})
}
