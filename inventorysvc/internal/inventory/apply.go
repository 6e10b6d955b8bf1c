package inventory

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// StaleMarkAfter is how old a product's mark of another order must be
// before a write of the product checks whether that order's reservation
// records it, and drops it if so (a delivery that crashed before removing
// its mark). Younger marks belong to deliveries under way, which remove
// their own.
const StaleMarkAfter = 10 * time.Second

// maxSweep bounds the stale marks one product write checks.
const maxSweep = 16

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
// Steps 1 and 3 are carried out by writeProduct, in one write with those
// of the other deliveries waiting for the same product in this replica.
//
// It returns the reservation as its record wrote it, or nil when it wrote
// none.
func (s *Service) apply(ctx context.Context, orderID string, l Line, st Step) (*Reservation, error) {
	w := &productWork{orderID: orderID, line: l, step: st}
	if err := s.productWrites.Do(ctx, l.SKU, w); err != nil {
		return nil, err
	}
	recorded, pl, p := w.recorded, w.plan, w.product
	switch {
	case w.err != nil:
		return nil, w.err
	case w.moved:
		return nil, errMoved
	case pl == planPast:
		return nil, nil
	}
	var wrote *Reservation
	if recorded != st {
		moved, past := false, false
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
	w := &productWork{orderID: orderID, step: st, unmark: true}
	if err := s.productWrites.Do(ctx, sku, w); err != nil {
		return err
	}
	return w.err
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

// sweep drops p's marks of orders not in skip that are older than StaleMarkAfter
// and that those orders' reservations record (a delivery crashed between
// its record and its clean-up), at most maxSweep of them. It is called in
// an update of p, after p was read: a mark that the reservation, read
// after p, records is the line's last step whether or not it is on p, and
// the guarded write of p fails if the order changed p since. It reports
// whether p changed.
func (s *Service) sweep(ctx context.Context, p *Product, skip map[string]bool) (bool, error) {
	cutoff := s.now().Add(-StaleMarkAfter)
	var ids []string
	for id, m := range p.Marks {
		if !skip[id] && m.At.Before(cutoff) {
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
