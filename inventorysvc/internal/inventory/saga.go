package inventory

import (
	"context"
	"errors"
	"fmt"

	"shop/platform/contract"
)

// errMoved is a step that the order's reservation no longer takes: another
// delivery moved it on. The caller reads it again and carries on from where
// it stands.
var errMoved = errors.New("reservation moved on")

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
	r, _, err := s.insert(ctx, NewReservation(orderID, lines))
	if err != nil {
		return s.done(err)
	}
	if r.Status == StatusReleased && !r.Final() {
		r, err = s.move(ctx, orderID, func(r Reservation) (Reservation, bool, error) {
			if r.Status != StatusReleased || r.Final() {
				return r, false, nil
			}
			answered, err := r.AnswerCancelled(lines)
			return answered, err == nil, err
		})
		if err != nil {
			return s.done(err)
		}
	}
	// Sweep a rejected order even when found rejected: an earlier delivery
	// may have reserved a line after another one decided the rejection,
	// and failed before giving it back.
	if r, err = s.settle(ctx, r, true); err != nil {
		return s.done(err)
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
		return s.done(err)
	}
	if r.Status == StatusRejected {
		return fmt.Errorf("%w: order %s was confirmed but its reservation was rejected", ErrNotApplicable, orderID)
	}
	r, err = s.move(ctx, orderID, func(r Reservation) (Reservation, bool, error) {
		if r.Status != StatusReserved {
			return r, false, nil
		}
		committing, err := r.To(StatusCommitting)
		return committing, err == nil, err
	})
	if err != nil {
		return s.done(err)
	}
	_, err = s.settle(ctx, r, false)
	return s.done(err)
}

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
// does not publish one, but a timeout that lost its race to the
// confirmation may have).
func (s *Service) OrderCancelled(ctx context.Context, orderID, reason string) error {
	if !ValidOrderID(orderID) {
		return fmt.Errorf("%w: order id %q", ErrMalformed, orderID)
	}
	r, inserted, err := s.insert(ctx, Tombstone(orderID))
	if err != nil || inserted {
		return s.done(err)
	}
	if r, err = s.settleCreated(ctx, r); err != nil {
		return s.done(err)
	}
	r, err = s.move(ctx, orderID, func(r Reservation) (Reservation, bool, error) {
		switch r.Status {
		case StatusCommitting, StatusCommitted:
			if reason == contract.ReasonSagaTimeout {
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
		return s.done(err)
	}
	_, err = s.settle(ctx, r, false)
	return s.done(err)
}

// insert reads the order's reservation, or inserts r when there is none
// (first-write: of two deliveries inserting at once, one does, and the
// other reads what it inserted). inserted tells whether this call did.
func (s *Service) insert(ctx context.Context, r Reservation) (Reservation, bool, error) {
	err := s.store.InsertReservation(ctx, r)
	if errors.Is(err, ErrExists) {
		got, err := s.store.Reservation(ctx, r.OrderID)
		return got, false, err
	}
	if err != nil {
		return r, false, err
	}
	if r.Status == StatusReleased {
		s.outcomes[countReleased].Add(1)
	}
	return r, true, nil
}

// move makes one move of the order's record: f decides it from the record
// as read (false: no move, the record stays as it is), and the write is
// guarded by what was read; a lost race reads the record again and asks f
// again. It returns the record as it stands after the move, or as f left
// it.
func (s *Service) move(ctx context.Context, orderID string, f func(r Reservation) (Reservation, bool, error)) (Reservation, error) {
	var from, to Reservation
	moved := false
	r, err := s.store.UpdateReservation(ctx, orderID, func(r *Reservation, found bool) error {
		moved = false
		if !found {
			return fmt.Errorf("reservation of order %s: %w", orderID, ErrNotFound)
		}
		next, write, err := f(*r)
		if err != nil {
			return err
		}
		if !write {
			return ErrUnchanged
		}
		from, to, moved = *r, next, true
		*r = next
		return nil
	})
	if err == nil && moved {
		s.count(from, to)
	}
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
			last       *Reservation // the record as a step's record wrote it
			err        error
		)
		switch r.Status {
		case StatusReserving:
			sweep = true
			rejections, last, err = s.reserveLines(ctx, r)
			to = StatusReserved
			if len(rejections) > 0 {
				to = StatusRejecting // or rejected: Reject decides
			}
		case StatusRejecting:
			_, err = s.eachLine(ctx, r, StepUnreserve)
			sweep = false
			to = StatusRejected
		case StatusCommitting:
			last, err = s.eachLine(ctx, r, StepCommit)
			to = StatusCommitted
		case StatusReleasing:
			last, err = s.eachLine(ctx, r, StepRelease)
			to = StatusReleased
		case StatusRejected:
			if !sweep {
				return r, nil
			}
			if _, err = s.eachLine(ctx, r, StepUnreserve); err == nil {
				return r, nil
			}
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
// It returns the record as the last record of a step wrote it, if any did.
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

// apply applies step st of the order to the product of line l at most once,
// however many deliveries try it, however late, with single-key writes
// only. It takes three writes, each an optimistic-concurrency update:
//
//  1. Apply: read the product P, then the reservation R. If R's status
//     does not take st, stop (errMoved). The line's last step is P's mark
//     of the order if there is one, else what R records. If that is st
//     already, go on to 2; otherwise change P's stock and mark the order's
//     step in the same write, guarded by P's ETag.
//  2. Record: read R again; if its status still takes st and it does not
//     record st (or a later step) for the line, record st, guarded by R's
//     ETag; when st is then recorded on every line, the same write makes
//     the status's move (reserved, committed, released). If its status
//     moved on, stop (errMoved) and leave the mark.
//  3. Clean up: remove the mark from P if it is still st, guarded by P's
//     ETag.
//
// Why a step is never applied twice: a delivery decides to change P's
// stock from a read of P and a later read of R, and writes P guarded by
// the ETag of that read of P. Every other delivery's change of P for the
// order (apply, clean-up) changes that ETag, and R records a step only
// while P carries its mark (between 1 and 3). So when the guarded write
// succeeds, P did not change since it was read: either it carries the
// order's mark (and the decision used it), or R as read after P already
// held every record of the order's steps on P (a record made later would
// follow an apply, which would have changed P). A stale delivery that read
// R and stalled while another applied, recorded and cleaned up fails its
// write, and its next round reads the step in R.
//
// Why each crash point is safe: before 1, nothing happened. Between 1 and
// 2, P carries the mark: a redelivery finds it and goes on to record
// instead of applying again. Between 2 and 3, P carries a mark that R
// records: it is the line's last step either way, the order's next step on
// P replaces it, and otherwise the next write of P after StaleMarkAfter
// drops it (sweep). A mark whose record was refused (R moved on, e.g. a
// reserve that came after another delivery rejected the order) stays
// until the step of R's new status handles it: a rejecting order
// unreserves it, a releasing one releases it from where it is.
//
// It returns the reservation as its record wrote it, or nil when it wrote
// none.
func (s *Service) apply(ctx context.Context, orderID string, l Line, st Step) (*Reservation, error) {
	var (
		recorded Step
		pl       plan
		moved    bool
	)
	p, err := s.store.UpdateProduct(ctx, l.SKU, func(p *Product) error {
		pl, moved = planPast, false
		r, err := s.reservationOf(ctx, orderID)
		if err != nil {
			return err
		}
		swept, err := s.sweep(ctx, p, orderID)
		if err != nil {
			return err
		}
		recorded = r.Applied[l.SKU]
		if moved = !r.Status.permits(st); !moved {
			if pl, err = planStep(p.StepOf(orderID, recorded), st); err != nil {
				return fmt.Errorf("order %s: %w", orderID, err)
			}
			if pl == planApply {
				return p.applyStep(orderID, p.StepOf(orderID, recorded), st, l.Quantity, s.now())
			}
		}
		if swept {
			return nil
		}
		return ErrUnchanged
	})
	switch {
	case err != nil:
		return nil, err
	case moved:
		return nil, errMoved
	case pl == planPast:
		return nil, nil
	}
	var wrote *Reservation
	if recorded != st {
		past := false
		var advanced *[2]Reservation
		r, err := s.store.UpdateReservation(ctx, orderID, func(r *Reservation, found bool) error {
			moved, past, advanced = false, false, nil
			if !found {
				return fmt.Errorf("order %s has no reservation: %w", orderID, ErrInvariant)
			}
			if !r.Status.permits(st) {
				moved = true
				return ErrUnchanged
			}
			if rec := r.Applied[l.SKU]; rec == st || !st.after(rec) {
				past = rec != st
				return ErrUnchanged
			}
			r.record(l.SKU, st)
			// The record of the last line makes the status's move in the
			// same write (for unreserve, the move waits for the pass over
			// every line: a line may carry a reserve mark not recorded).
			if to, ok := completes[st]; ok && r.linesReady(to) == nil {
				from := *r
				next, err := r.To(to)
				if err != nil {
					return err
				}
				*r, advanced = next, &[2]Reservation{from, next}
			}
			return nil
		})
		if err == nil && advanced != nil {
			s.count(advanced[0], advanced[1])
		}
		switch {
		case err != nil:
			return nil, err
		case moved:
			return nil, errMoved
		case past:
			return nil, nil // a later step replaced the mark
		}
		wrote = &r
	} else if p.StepOf(orderID, StepNone) != st {
		return nil, nil // recorded, and no mark to clean up
	}
	return wrote, s.unmark(ctx, orderID, l.SKU, st)
}

// completes is the move that the record of a step on the last line makes.
var completes = map[Step]Status{StepReserve: StatusReserved, StepCommit: StatusCommitted, StepRelease: StatusReleased}

// unmark removes the order's mark of step st from the product, if it is
// still there.
func (s *Service) unmark(ctx context.Context, orderID, sku string, st Step) error {
	_, err := s.store.UpdateProduct(ctx, sku, func(p *Product) error {
		swept, err := s.sweep(ctx, p, orderID)
		if err != nil {
			return err
		}
		if !p.unmark(orderID, st) && !swept {
			return ErrUnchanged
		}
		return nil
	})
	return err
}

// reservationOf reads the order's reservation, which must exist once a
// step is applied for it.
func (s *Service) reservationOf(ctx context.Context, orderID string) (Reservation, error) {
	r, err := s.store.Reservation(ctx, orderID)
	if errors.Is(err, ErrNotFound) {
		return r, fmt.Errorf("order %s has no reservation: %w", orderID, ErrInvariant)
	}
	return r, err
}

// sweep drops p's marks of other orders that are older than StaleMarkAfter
// and that those orders' reservations record (a delivery crashed between
// its record and its clean-up), at most maxSweep of them. It is called in
// an update of p, after p was read: a mark that the reservation, read
// after p, records is the line's last step whether or not it is on p, and
// the guarded write of p fails if the order changed p since. It reports
// whether p changed.
func (s *Service) sweep(ctx context.Context, p *Product, orderID string) (bool, error) {
	cutoff := s.now().Add(-StaleMarkAfter)
	var ids []string
	for id, m := range p.Marks {
		if id != orderID && m.At.Before(cutoff) {
			ids = append(ids, id)
			if len(ids) == maxSweep {
				break
			}
		}
	}
	if len(ids) == 0 {
		return false, nil
	}
	rs, err := s.store.Reservations(ctx, ids)
	if err != nil {
		return false, fmt.Errorf("sweep marks of %s: %w", p.SKU, err)
	}
	changed := false
	for _, id := range ids {
		if r, ok := rs[id]; ok && r.Applied[p.SKU] == p.Marks[id].Step {
			changed = p.unmark(id, p.Marks[id].Step) || changed
		}
	}
	return changed, nil
}
