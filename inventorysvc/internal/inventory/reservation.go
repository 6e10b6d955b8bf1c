package inventory

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"

	"shop/platform/contract"
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

	// Transitional statuses: a step over the order's products is under
	// way. A delivery that finds one carries the step on to its end
	// (every product step is idempotent), so a crash in the middle is
	// repaired by the event's redelivery.

	// StatusReserving: reserving the lines one by one.
	StatusReserving Status = "reserving"
	// StatusRejecting: a line could not be reserved; giving back the
	// lines that were.
	StatusRejecting Status = "rejecting"
	// StatusCommitting: selling the reserved units, line by line.
	StatusCommitting Status = "committing"
	// StatusReleasing: giving the units back, line by line; From says
	// where they were held.
	StatusReleasing Status = "releasing"
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

// Reasons of a rejected line, as the event contract names them.
const (
	ReasonOutOfStock     Reason = contract.ReasonOutOfStock
	ReasonUnknownProduct Reason = contract.ReasonUnknownProduct
	// ReasonOrderCancelled answers an order.created that arrived after the
	// order's order.cancelled: the order no longer wants stock.
	ReasonOrderCancelled Reason = contract.ReasonOrderCancelled
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
// per order id, which makes every order event idempotent. It is the
// order's decision: a state machine whose every move (To) is one guarded
// write, and the record of the last step applied to each of its products
// (Applied; see Step).
type Reservation struct {
	OrderID    string      `json:"order_id"`
	Status     Status      `json:"status"`
	Outcome    Outcome     `json:"outcome,omitempty"`
	Lines      []Line      `json:"lines,omitempty"`
	Rejections []Rejection `json:"rejections,omitempty"`
	// From is the status a releasing or released reservation was
	// cancelled in: reserved, committing or committed.
	From Status `json:"from,omitempty"`
	// Applied is, by SKU, the last step of the order recorded as applied
	// to the product; a line that is not in it has none.
	Applied map[string]Step `json:"applied,omitempty"`
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

// next lists the moves of a reservation: each is one single-key write of
// the reservation guarded by the ETag read, so that of two deliveries
// racing for one move exactly one makes it, and the other reads it again
// and carries on from where it stands.
var next = map[Status][]Status{
	StatusReserving:  {StatusReserved, StatusRejecting, StatusRejected},
	StatusRejecting:  {StatusRejected},
	StatusReserved:   {StatusCommitting, StatusReleasing},
	StatusCommitting: {StatusCommitted, StatusReleasing},
	StatusCommitted:  {StatusReleasing},
	StatusReleasing:  {StatusReleased},
}

// NewReservation is the reservation an order's first order.created inserts:
// its lines (merged with MergeLines), being reserved.
func NewReservation(orderID string, lines []Line) Reservation {
	return Reservation{OrderID: orderID, Status: StatusReserving, Lines: lines}
}

// Tombstone is the reservation of an order cancelled before its order.created
// arrived: released, with no outcome (see AnswerCancelled).
func Tombstone(orderID string) Reservation {
	return Reservation{OrderID: orderID, Status: StatusReleased}
}

// Final reports whether r answers order.created: reserved or rejected,
// whatever happened to the order since.
func (r Reservation) Final() bool { return r.Outcome != OutcomeNone }

// To moves r to status: the outcome is set on reaching reserved or
// rejected, and releasing remembers where the units were held. A move the
// state machine does not have is ErrInvariant.
func (r Reservation) To(status Status) (Reservation, error) {
	if !slices.Contains(next[r.Status], status) {
		return r, fmt.Errorf("order %s: reservation cannot move from %q to %q: %w", r.OrderID, r.Status, status, ErrInvariant)
	}
	if err := r.linesReady(status); err != nil {
		return r, err
	}
	switch status {
	case StatusReserved:
		r.Outcome = OutcomeReserved
	case StatusRejected:
		r.Outcome = OutcomeRejected
	case StatusReleasing:
		r.From = r.Status
	}
	r.Status = status
	return r, nil
}

// linesReady checks that the lines' recorded steps allow the move to
// status: every line reserved before reserved, committed before committed,
// released before released, and none left reserved before rejected. A
// move is made only after its step was recorded on every line, so a
// failure here is a bug.
func (r Reservation) linesReady(status Status) error {
	var want Step
	switch status {
	case StatusReserved:
		want = StepReserve
	case StatusCommitted:
		want = StepCommit
	case StatusReleased:
		want = StepRelease
	case StatusRejected:
		for _, l := range r.Lines {
			if r.Applied[l.SKU] == StepReserve {
				return fmt.Errorf("order %s: rejected with %s still reserved: %w", r.OrderID, l.SKU, ErrInvariant)
			}
		}
		return nil
	default:
		return nil
	}
	for _, l := range r.Lines {
		if got := r.Applied[l.SKU]; got != want {
			return fmt.Errorf("order %s: %s with %s at step %q: %w", r.OrderID, status, l.SKU, got, ErrInvariant)
		}
	}
	return nil
}

// record records step s as the last one applied to sku's product.
func (r *Reservation) record(sku string, s Step) {
	if r.Applied == nil {
		r.Applied = map[string]Step{}
	}
	r.Applied[sku] = s
}

// Reject moves a reservation being reserved to rejecting, with the lines
// that could not be reserved: what it reserved is given back next. When it
// records no line reserved, it moves straight to rejected: there is
// nothing to give back, but for a reserve that a concurrent delivery
// applied and did not record, which that delivery gives back itself when
// it finds the order rejected (see Service.settle).
func (r Reservation) Reject(rejections []Rejection) (Reservation, error) {
	if len(rejections) == 0 {
		return r, fmt.Errorf("order %s: rejected without a reason: %w", r.OrderID, ErrInvariant)
	}
	to := StatusRejected
	for _, l := range r.Lines {
		if r.Applied[l.SKU] == StepReserve {
			to = StatusRejecting
		}
	}
	r, err := r.To(to)
	r.Rejections = rejections
	return r, err
}

// AnswerCancelled answers the late order.created of a tombstone: rejected
// with order_cancelled on every line. Nothing was or will be reserved; the
// answer is recorded so that redeliveries get it too.
func (r Reservation) AnswerCancelled(lines []Line) (Reservation, error) {
	if r.Status != StatusReleased || r.Final() {
		return r, fmt.Errorf("order %s: %s reservation is no tombstone: %w", r.OrderID, r.Status, ErrInvariant)
	}
	r.Outcome, r.Lines, r.Rejections = OutcomeRejected, lines, nil
	for _, l := range lines {
		r.Rejections = append(r.Rejections, Rejection{SKU: l.SKU, Reason: ReasonOrderCancelled})
	}
	return r, nil
}
