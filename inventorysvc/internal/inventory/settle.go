package inventory

import (
	"context"
	"errors"
	"fmt"
)

// errMoved is a step that the order's reservation no longer takes: another
// delivery moved it on. The caller reads it again and carries on from where
// it stands.
var errMoved = errors.New("reservation moved on")

// settle carries the order's reservation through its transitional statuses to
// a resting one (reserved, rejected, committed, released): it applies the
// step of the status it finds to every line, then makes the move that ends
// it, and so on while a move leads to another transitional status. A
// reservation found moved by someone else is carried on from there.
//
// A delivery that reserved lines and then found the order rejected gives
// back what it may have reserved late (unreserveLate).
func (s *Service) settle(ctx context.Context, r Reservation) (Reservation, error) {
	// reserved: this call reserved lines, and no pass over a rejecting
	// order gave them back since.
	reserved := false
	for {
		var (
			to         Status
			rejections []Rejection
			last       *Reservation // the reservation as a step's record wrote it
			err        error
		)
		switch r.Status {
		case StatusReserving:
			reserved = true
			rejections, last, err = s.reserveLines(ctx, r)
			to = StatusReserved
			if len(rejections) > 0 {
				to = StatusRejecting // or rejected: Reject decides
			}
		case StatusRejecting:
			_, err = s.eachLine(ctx, r, StepUnreserve)
			reserved = false
			to = StatusRejected
		case StatusCommitting:
			last, err = s.eachLine(ctx, r, StepCommit)
			to = StatusCommitted
		case StatusReleasing:
			last, err = s.eachLine(ctx, r, StepRelease)
			to = StatusReleased
		case StatusRejected:
			if !reserved {
				return r, nil
			}
			return s.unreserveLate(ctx, r)
		case StatusReserved, StatusCommitted, StatusReleased:
			return r, nil
		default:
			return r, fmt.Errorf("order %s: unknown reservation status %q: %w", r.OrderID, r.Status, ErrInvariant)
		}
		if errors.Is(err, errMoved) {
			if r, err = s.store.Reservation(ctx, r.OrderID); err != nil {
				return r, err
			}
			continue
		}
		if err != nil {
			return r, err
		}
		if last != nil && last.Status != r.Status {
			r = *last // the last line's record made the move
			continue
		}
		from := r.Status
		r, err = s.move(ctx, r.OrderID, func(cur Reservation) (Reservation, bool, error) {
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

// unreserveLate gives back what a rejected order's products still hold
// reserved for it: a reserve that a delivery applied after another one
// decided the rejection, and that failed before giving it back. A
// rejected reservation never moves (it has no next status): a line found
// moved on reads the reservation again and passes over the lines again.
func (s *Service) unreserveLate(ctx context.Context, r Reservation) (Reservation, error) {
	for {
		_, err := s.eachLine(ctx, r, StepUnreserve)
		if !errors.Is(err, errMoved) {
			return r, err
		}
		if r, err = s.store.Reservation(ctx, r.OrderID); err != nil {
			return r, err
		}
		if r.Status != StatusRejected {
			return s.settle(ctx, r)
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
	return s.settle(ctx, r)
}

// reserveLines reserves the order's lines in SKU order and stops at the
// first that cannot be reserved; it then tells every line that cannot be
// reserved now, without reserving the rest, so that the rejection names
// them all.
func (s *Service) reserveLines(ctx context.Context, r Reservation) ([]Rejection, *Reservation, error) {
	var (
		rejections []Rejection
		last       *Reservation
	)
	for i, l := range r.Lines {
		wrote, err := s.apply(ctx, r.OrderID, l, StepReserve)
		switch {
		case errors.Is(err, ErrNotFound):
			rejections = append(rejections, Rejection{SKU: l.SKU, Reason: ReasonUnknownProduct})
		case errors.Is(err, ErrOutOfStock):
			rejections = append(rejections, Rejection{SKU: l.SKU, Reason: ReasonOutOfStock})
		case err != nil:
			return nil, nil, err
		default:
			if wrote != nil {
				last = wrote
			}
			continue
		}
		rest := r.Lines[i+1:]
		if len(rest) == 0 {
			return rejections, nil, nil
		}
		products, err := s.store.Products(ctx, SKUs(rest))
		if err != nil {
			return nil, nil, err
		}
		if r, err = s.store.Reservation(ctx, r.OrderID); err != nil {
			return nil, nil, err
		}
		for _, l := range rest {
			p, ok := products[l.SKU]
			switch {
			case !ok:
				rejections = append(rejections, Rejection{SKU: l.SKU, Reason: ReasonUnknownProduct})
			case p.Available < l.Quantity && p.StepOf(r.OrderID, r.Applied[l.SKU]) != StepReserve:
				rejections = append(rejections, Rejection{SKU: l.SKU, Reason: ReasonOutOfStock})
			}
		}
		return rejections, nil, nil
	}
	return nil, last, nil
}

// eachLine applies one step to the product of every line. A rejected
// order's line of a product that does not exist holds nothing; a product
// that a reserved order holds units of and that does not exist means the
// stored state is corrupt.
// It returns the reservation as the last record of a step wrote it, if any did.
func (s *Service) eachLine(ctx context.Context, r Reservation, step Step) (*Reservation, error) {
	lines := r.Lines
	if step == StepUnreserve {
		var err error
		if lines, err = s.reservedLines(ctx, r); err != nil {
			return nil, err
		}
	}
	var last *Reservation
	for _, l := range lines {
		wrote, err := s.apply(ctx, r.OrderID, l, step)
		if errors.Is(err, ErrNotFound) {
			if step == StepUnreserve {
				continue
			}
			return nil, fmt.Errorf("order %s holds %s, which does not exist: %w", r.OrderID, l.SKU, ErrInvariant)
		}
		if err != nil {
			return nil, err
		}
		if wrote != nil {
			last = wrote
		}
	}
	return last, nil
}

// reservedLines returns the lines of r that an unreserve has work on: the
// product carries a mark of the order, or the reservation records a
// reserve. It reads as apply reads (the products, then the reservation),
// in two reads whatever the number of lines: a rejected order has most of
// its lines never reserved.
func (s *Service) reservedLines(ctx context.Context, r Reservation) ([]Line, error) {
	products, err := s.store.Products(ctx, SKUs(r.Lines))
	if err != nil {
		return nil, err
	}
	if r, err = s.reservationOf(ctx, r.OrderID); err != nil {
		return nil, err
	}
	var lines []Line
	for _, l := range r.Lines {
		p, ok := products[l.SKU]
		if _, marked := p.Marks[r.OrderID]; ok && (marked || r.Applied[l.SKU] == StepReserve) {
			lines = append(lines, l)
		}
	}
	return lines, nil
}
