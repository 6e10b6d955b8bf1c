package inventory

import (
	"errors"
	"fmt"
	"time"
)

// Step is one change an order makes to the stock of one product. The steps
// of one order on one product follow a chain:
//
//	none -> reserve -> commit | unreserve | release
//	        commit  -> release
//
// Which step an order last applied to a product is known from two keys:
// the order's reservation records it per line (Reservation.Applied), and
// the product marks the steps it applied that the reservation does not
// record yet (Product.Marks). A mark is set in the same write as the
// step's stock change, the reservation records the step next, and the mark
// is removed last. So the product holds only the steps in flight, and a
// step is never applied twice however late a delivery comes (see
// Service.apply for why each crash point and each race is safe).
type Step string

// Steps of an order on one of its products.
const (
	// StepNone: the order changed nothing on the product yet.
	StepNone Step = ""
	// StepReserve: available -> reserved.
	StepReserve Step = "reserve"
	// StepUnreserve gives back a rejected order's units: reserved -> available.
	StepUnreserve Step = "unreserve"
	// StepCommit: reserved -> sold.
	StepCommit Step = "commit"
	// StepRelease gives a cancelled order's units back: reserved or sold ->
	// available.
	StepRelease Step = "release"
)

// Mark is a step an order applied to a product that its reservation may
// not record yet, and when it was applied.
type Mark struct {
	Step Step      `json:"step"`
	At   time.Time `json:"at"`
}

// ErrOutOfStock is a reserve of more units than are available.
var ErrOutOfStock = errors.New("not enough available")

// StepOf returns the last step of the order applied to p, given the step
// the order's reservation records for p. A mark is never behind what the
// reservation records (it is set before the step is recorded and removed
// only once it is), so a mark, when there is one, is the last step.
func (p Product) StepOf(orderID string, recorded Step) Step {
	if m, ok := p.Marks[orderID]; ok {
		return m.Step
	}
	return recorded
}

// plan is what applying a step to a line takes, given the line's last step.
type plan int

const (
	planApply plan = iota // change the stock
	planDone              // the step is the line's last one: applied before
	planPast              // the line is past the step, or the step has nothing to do
)

// planStep decides step s on a line whose last step is cur. A step the
// chain does not allow from cur is ErrInvariant: the saga never asks it.
func planStep(cur, s Step) (plan, error) {
	if cur == s {
		return planDone, nil
	}
	switch cur {
	case StepNone:
		switch s {
		case StepReserve:
			return planApply, nil
		case StepUnreserve:
			return planPast, nil // nothing was reserved: nothing to give back
		}
	case StepReserve:
		switch s {
		case StepCommit, StepUnreserve, StepRelease:
			return planApply, nil
		}
	case StepCommit:
		switch s {
		case StepReserve:
			return planPast, nil
		case StepRelease:
			return planApply, nil
		}
	case StepUnreserve, StepRelease:
		return planPast, nil // the line holds nothing any more, for good
	}
	return 0, fmt.Errorf("step %q after %q: %w", s, cur, ErrInvariant)
}

// after reports whether s comes later than prev in the chain of one
// order's steps on one product. A reservation records a step only over an
// earlier one: the step that its line's product shows applied, which may
// follow a step applied and never recorded (a reserve recorded as none can
// be unreserved from its mark, a commit never recorded released).
func (s Step) after(prev Step) bool {
	rank := map[Step]int{StepNone: 0, StepReserve: 1, StepCommit: 2, StepUnreserve: 3, StepRelease: 3}
	return rank[s] > rank[prev]
}

// applyStep changes p's stock for step s of the order on quantity units,
// from the line's last step cur, and marks the step. The result must keep
// the stock invariant. ErrOutOfStock when a reserve finds too few units.
func (p *Product) applyStep(orderID string, cur, s Step, quantity int64, at time.Time) error {
	switch {
	case cur == StepNone && s == StepReserve:
		if p.Available < quantity {
			return fmt.Errorf("reserve %d of %s (%d available): %w", quantity, p.SKU, p.Available, ErrOutOfStock)
		}
		p.Available -= quantity
		p.Reserved += quantity
	case cur == StepReserve && (s == StepUnreserve || s == StepRelease):
		p.Reserved -= quantity
		p.Available += quantity
	case cur == StepReserve && s == StepCommit:
		p.Reserved -= quantity
		p.Sold += quantity
	case cur == StepCommit && s == StepRelease:
		p.Sold -= quantity
		p.Available += quantity
	default:
		return fmt.Errorf("order %s: %s of %s after %q: %w", orderID, s, p.SKU, cur, ErrInvariant)
	}
	if p.Marks == nil {
		p.Marks = map[string]Mark{}
	}
	p.Marks[orderID] = Mark{Step: s, At: at}
	if err := p.CheckInvariant(); err != nil {
		return fmt.Errorf("order %s: %s: %w", orderID, s, err)
	}
	return nil
}

// unmark removes the order's mark when it is step s; it reports whether p
// changed.
func (p *Product) unmark(orderID string, s Step) bool {
	if m, ok := p.Marks[orderID]; !ok || m.Step != s {
		return false
	}
	delete(p.Marks, orderID)
	if len(p.Marks) == 0 {
		p.Marks = nil
	}
	return true
}

// permits reports whether a reservation in this status takes step s on its
// lines: reserve while reserving, unreserve while rejecting (and on a
// rejected order, to give back a reserve that came late), commit while
// committing, release while releasing.
func (s Status) permits(step Step) bool {
	switch step {
	case StepReserve:
		return s == StatusReserving
	case StepUnreserve:
		return s == StatusRejecting || s == StatusRejected
	case StepCommit:
		return s == StatusCommitting
	case StepRelease:
		return s == StatusReleasing
	}
	return false
}
