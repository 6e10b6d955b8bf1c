package inventory

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
)

// Errors of the saga's order events.
var (
	// ErrMalformed is an order event that can never be processed: no
	// order id, no lines, a non-positive quantity. Its subscriber drops it.
	ErrMalformed = errors.New("malformed order event")
	// ErrNotApplicable is an order event that contradicts what the
	// inventory knows and can never succeed, e.g. order.confirmed for an
	// order the inventory never reserved. Its subscriber drops it, logged.
	ErrNotApplicable = errors.New("order event does not apply")
)

// Status is where a reservation stands.
type Status string

// Statuses of a reservation.
const (
	// StatusReserved: the order holds its units (available -> reserved).
	StatusReserved Status = "reserved"
	// StatusRejected: at least one line could not be reserved; the order
	// holds nothing.
	StatusRejected Status = "rejected"
	// StatusCommitted: the order was paid; its units are sold.
	StatusCommitted Status = "committed"
	// StatusReleased: the order was cancelled; whatever it held went back
	// to available, and it holds nothing.
	StatusReleased Status = "released"
)

// Outcome is the answer the inventory gave to an order's order.created
// event; it is published again, unchanged, for every redelivery.
type Outcome string

// Outcomes of order.created. OutcomeNone is the outcome of an order that
// was cancelled before its order.created arrived.
const (
	OutcomeNone     Outcome = ""
	OutcomeReserved Outcome = "reserved"
	OutcomeRejected Outcome = "rejected"
)

// Reason is why a line could not be reserved.
type Reason string

// Reasons of a rejected line.
const (
	ReasonOutOfStock     Reason = "out_of_stock"
	ReasonUnknownProduct Reason = "unknown_product"
	// ReasonOrderCancelled answers an order.created that arrived after the
	// order's order.cancelled: the order no longer wants stock.
	ReasonOrderCancelled Reason = "order_cancelled"
)

// Line is a quantity of one product in an order.
type Line struct {
	SKU      string `json:"sku"`
	Quantity int64  `json:"quantity"`
}

// Rejection is a line that could not be reserved, and why.
type Rejection struct {
	SKU    string `json:"sku"`
	Reason Reason `json:"reason"`
}

// Reservation is what the inventory remembers of one order: its lines, the
// stock it holds, and the answer given to its order.created. There is one
// per order id, which makes every order event idempotent.
type Reservation struct {
	OrderID    string      `json:"order_id"`
	Status     Status      `json:"status"`
	Outcome    Outcome     `json:"outcome,omitempty"`
	Lines      []Line      `json:"lines,omitempty"`
	Rejections []Rejection `json:"rejections,omitempty"`
	// Version is the store's concurrency token of the reservation as it
	// was read, "" for one not stored yet (written as insert-if-absent).
	Version string `json:"-"`
}

// Limits of an order event.
const (
	MaxOrderLines   = 100
	MaxLineQuantity = math.MaxInt32
	maxOrderIDLen   = 128
)

// ValidOrderID reports whether id can name an order: 1 to 128 printable
// ASCII characters without spaces (ids are also part of state keys).
func ValidOrderID(id string) bool {
	if id == "" || len(id) > maxOrderIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= ' ' || id[i] > '~' {
			return false
		}
	}
	return true
}

// MergeLines checks an order's lines and merges the lines of one SKU, in
// SKU order. A SKU that no product could have is kept: the order is then
// rejected with unknown_product, which is an answer the order service can
// act on. No lines, a quantity below 1 or above MaxLineQuantity, or more
// than MaxOrderLines SKUs make the event malformed.
func MergeLines(items []Line) ([]Line, error) {
	if len(items) == 0 {
		return nil, fmt.Errorf("%w: no lines", ErrMalformed)
	}
	qty := map[string]int64{}
	for i, it := range items {
		if it.SKU == "" {
			return nil, fmt.Errorf("%w: line %d has no sku", ErrMalformed, i)
		}
		if it.Quantity < 1 || it.Quantity > MaxLineQuantity {
			return nil, fmt.Errorf("%w: line %d (%s) has quantity %d", ErrMalformed, i, it.SKU, it.Quantity)
		}
		qty[it.SKU] += it.Quantity
	}
	if len(qty) > MaxOrderLines {
		return nil, fmt.Errorf("%w: %d products, at most %d", ErrMalformed, len(qty), MaxOrderLines)
	}
	lines := make([]Line, 0, len(qty))
	for sku, q := range qty {
		lines = append(lines, Line{SKU: sku, Quantity: q})
	}
	slices.SortFunc(lines, func(a, b Line) int { return cmp.Compare(a.SKU, b.SKU) })
	return lines, nil
}

// SKUs returns the SKUs of lines.
func SKUs(lines []Line) []string {
	skus := make([]string, 0, len(lines))
	for _, l := range lines {
		skus = append(skus, l.SKU)
	}
	return skus
}

// Decision is what an order event does: the reservation after it and the
// products to write with it, in one transaction. Write is false when the
// event changes nothing (a redelivery, or an event that arrived late).
type Decision struct {
	Reservation Reservation
	Products    []Product
	Write       bool
}

// DecideCreated decides order.created for lines (merged with MergeLines).
// existing is the order's reservation, nil when there is none; products
// holds the order's products that exist, by SKU.
//
//   - No reservation yet: reserve every line, or none. A line whose product
//     does not exist is rejected as unknown_product, one with less available
//     than asked as out_of_stock; the rejection lists every such line.
//   - A reservation with an outcome: a redelivery. Nothing changes, and the
//     recorded outcome is answered again.
//   - A reservation without an outcome: the order was cancelled before its
//     order.created arrived (see DecideCancelled). Nothing is reserved; the
//     order is answered rejected with order_cancelled on every line, and
//     that answer is recorded so that redeliveries get it too.
func DecideCreated(orderID string, lines []Line, existing *Reservation, products map[string]Product) (Decision, error) {
	if existing != nil {
		if existing.Outcome != OutcomeNone {
			return Decision{Reservation: *existing}, nil
		}
		next := *existing
		next.Outcome, next.Lines, next.Rejections = OutcomeRejected, lines, nil
		for _, l := range lines {
			next.Rejections = append(next.Rejections, Rejection{SKU: l.SKU, Reason: ReasonOrderCancelled})
		}
		return Decision{Reservation: next, Write: true}, nil
	}
	r := Reservation{OrderID: orderID, Lines: lines}
	changed := make([]Product, 0, len(lines))
	for _, l := range lines {
		p, ok := products[l.SKU]
		switch {
		case !ok:
			r.Rejections = append(r.Rejections, Rejection{SKU: l.SKU, Reason: ReasonUnknownProduct})
		case p.Available < l.Quantity:
			r.Rejections = append(r.Rejections, Rejection{SKU: l.SKU, Reason: ReasonOutOfStock})
		default:
			p.Available -= l.Quantity
			p.Reserved += l.Quantity
			if err := p.CheckInvariant(); err != nil {
				return Decision{}, fmt.Errorf("reserve order %s: %w", orderID, err)
			}
			changed = append(changed, p)
		}
	}
	if len(r.Rejections) > 0 {
		// All or none: the products stay as they are.
		r.Status, r.Outcome = StatusRejected, OutcomeRejected
		return Decision{Reservation: r, Write: true}, nil
	}
	r.Status, r.Outcome = StatusReserved, OutcomeReserved
	return Decision{Reservation: r, Products: changed, Write: true}, nil
}

// DecideConfirmed decides order.confirmed: the order was paid, so its
// reserved units become sold.
//
// The saga confirms only an order the inventory reserved, so confirmation
// of an order with no reservation, or a rejected one, can never succeed: it
// is ErrNotApplicable (retrying would block the topic for nothing). A
// committed order is a redelivery, and a released one was cancelled first
// (events of one order may arrive in any order): the cancellation stands,
// and both change nothing.
func DecideConfirmed(orderID string, existing *Reservation, products map[string]Product) (Decision, error) {
	if existing == nil {
		return Decision{}, fmt.Errorf("%w: order %s was confirmed but never reserved", ErrNotApplicable, orderID)
	}
	switch existing.Status {
	case StatusCommitted, StatusReleased:
		return Decision{Reservation: *existing}, nil
	case StatusRejected:
		return Decision{}, fmt.Errorf("%w: order %s was confirmed but its reservation was rejected", ErrNotApplicable, orderID)
	case StatusReserved:
	default:
		return Decision{}, fmt.Errorf("order %s: unknown reservation status %q: %w", orderID, existing.Status, ErrInvariant)
	}
	next := *existing
	next.Status = StatusCommitted
	changed, err := move(orderID, existing.Lines, products, func(p *Product, q int64) {
		p.Reserved -= q
		p.Sold += q
	})
	if err != nil {
		return Decision{}, err
	}
	return Decision{Reservation: next, Products: changed, Write: true}, nil
}

// DecideCancelled decides order.cancelled: whatever the order holds goes
// back to available, reserved units as well as sold ones (a confirmed order
// that is cancelled is refunded), and the reservation is released.
//
// A cancelled order with no reservation yet had its order.created still on
// the way: a released reservation with no outcome is recorded as a
// tombstone, so that the late order.created reserves nothing (see
// DecideCreated). A rejected or released order holds nothing: no change.
func DecideCancelled(orderID string, existing *Reservation, products map[string]Product) (Decision, error) {
	if existing == nil {
		return Decision{Reservation: Reservation{OrderID: orderID, Status: StatusReleased}, Write: true}, nil
	}
	var from func(p *Product) *int64
	switch existing.Status {
	case StatusRejected, StatusReleased:
		return Decision{Reservation: *existing}, nil
	case StatusReserved:
		from = func(p *Product) *int64 { return &p.Reserved }
	case StatusCommitted:
		from = func(p *Product) *int64 { return &p.Sold }
	default:
		return Decision{}, fmt.Errorf("order %s: unknown reservation status %q: %w", orderID, existing.Status, ErrInvariant)
	}
	next := *existing
	next.Status = StatusReleased
	changed, err := move(orderID, existing.Lines, products, func(p *Product, q int64) {
		*from(p) -= q
		p.Available += q
	})
	if err != nil {
		return Decision{}, err
	}
	return Decision{Reservation: next, Products: changed, Write: true}, nil
}

// move applies f to the product of every line and checks the invariant of
// each result. A reservation holding units of a product that does not
// exist means the stored state is corrupt.
func move(orderID string, lines []Line, products map[string]Product, f func(p *Product, quantity int64)) ([]Product, error) {
	changed := make([]Product, 0, len(lines))
	for _, l := range lines {
		p, ok := products[l.SKU]
		if !ok {
			return nil, fmt.Errorf("order %s holds %s, which does not exist: %w", orderID, l.SKU, ErrInvariant)
		}
		f(&p, l.Quantity)
		if err := p.CheckInvariant(); err != nil {
			return nil, fmt.Errorf("order %s: %w", orderID, err)
		}
		changed = append(changed, p)
	}
	return changed, nil
}
