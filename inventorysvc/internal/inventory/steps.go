package inventory

import (
	"errors"
	"fmt"
	"slices"
)

// Step is one change an order makes to the stock of one product. A product
// remembers the steps applied to it in its Log, so that each is applied at
// most once however often, and by however many deliveries, it is tried:
// that is what lets an order span products without a multi-key
// transaction (see inventorystore).
type Step string

// Steps of an order on one of its products.
const (
	// StepReserve: available -> reserved.
	StepReserve Step = "reserve"
	// StepUnreserve undoes a reserve of a rejected order: reserved -> available.
	StepUnreserve Step = "unreserve"
	// StepCommit: reserved -> sold.
	StepCommit Step = "commit"
	// StepRelease gives a cancelled order's units back: reserved or sold ->
	// available.
	StepRelease Step = "release"
)

// MaxLog bounds a product's Log: the newest entries are kept. An order's
// steps on a product follow each other within seconds, so 200 entries
// outlive them by far; an entry that fell off only matters to a delivery
// that stalled for longer than 200 other orders took.
const MaxLog = 200

// ErrOutOfStock is a reserve of more units than are available.
var ErrOutOfStock = errors.New("not enough available")

func logEntry(orderID string, s Step) string { return orderID + ":" + string(s) }

// Applied reports whether the order's step is in the product's log.
func (p Product) Applied(orderID string, s Step) bool {
	return slices.Contains(p.Log, logEntry(orderID, s))
}

// record appends the step to the log, keeping the newest MaxLog entries,
// and checks the invariant of the result.
func (p *Product) record(orderID string, s Step) error {
	p.Log = append(p.Log, logEntry(orderID, s))
	if n := len(p.Log); n > MaxLog {
		p.Log = slices.Clone(p.Log[n-MaxLog:])
	}
	if err := p.CheckInvariant(); err != nil {
		return fmt.Errorf("order %s: %s: %w", orderID, s, err)
	}
	return nil
}

// Reserve holds quantity available units for the order. It reports
// whether p changed: false when the order reserved it before.
// ErrOutOfStock when fewer units are available.
func (p *Product) Reserve(orderID string, quantity int64) (bool, error) {
	if p.Applied(orderID, StepReserve) {
		return false, nil
	}
	if p.Available < quantity {
		return false, fmt.Errorf("reserve %d of %s (%d available): %w", quantity, p.SKU, p.Available, ErrOutOfStock)
	}
	p.Available -= quantity
	p.Reserved += quantity
	return true, p.record(orderID, StepReserve)
}

// Unreserve gives back what the order reserved, if it did and has not
// given it back yet: its order was rejected.
func (p *Product) Unreserve(orderID string, quantity int64) (bool, error) {
	if !p.Applied(orderID, StepReserve) || p.Applied(orderID, StepUnreserve) {
		return false, nil
	}
	p.Reserved -= quantity
	p.Available += quantity
	return true, p.record(orderID, StepUnreserve)
}

// Commit sells the order's reserved units. It is moot once the order's
// units were released (or unreserved): a cancellation stands.
func (p *Product) Commit(orderID string, quantity int64) (bool, error) {
	if p.Applied(orderID, StepCommit) || p.Applied(orderID, StepRelease) || p.Applied(orderID, StepUnreserve) {
		return false, nil
	}
	p.Reserved -= quantity
	p.Sold += quantity
	return true, p.record(orderID, StepCommit)
}

// Release gives the order's units back to available, taking them from
// where the reservation held them when it was cancelled: from reserved
// (StatusReserved), from sold (StatusCommitted), or, when it was cancelled
// while committing, from sold if this product was committed and from
// reserved if not.
func (p *Product) Release(orderID string, quantity int64, from Status) (bool, error) {
	if p.Applied(orderID, StepRelease) || p.Applied(orderID, StepUnreserve) {
		return false, nil
	}
	sold := false
	switch from {
	case StatusReserved:
	case StatusCommitted:
		sold = true
	case StatusCommitting:
		sold = p.Applied(orderID, StepCommit)
	default:
		return false, fmt.Errorf("order %s: release from %q: %w", orderID, from, ErrInvariant)
	}
	if sold {
		p.Sold -= quantity
	} else {
		p.Reserved -= quantity
	}
	p.Available += quantity
	return true, p.record(orderID, StepRelease)
}
