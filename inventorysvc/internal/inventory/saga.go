package inventory

import (
	"context"
	"errors"
	"fmt"

	"shop/platform/contract"
)

// OrderCreated reserves every line of a new order or none, then publishes
// the outcome.
//
// The first delivery inserts the order's reservation, reserving; the lines are
// then reserved one product at a time, in SKU order. When all are, the
// reservation moves to reserved. When one cannot be (unknown_product,
// out_of_stock), the reservation moves to rejecting with the reasons, what was
// reserved is given back, and the reservation moves to rejected. Every delivery
// that finds the reservation in the middle carries it on, so concurrent and
// repeated deliveries converge on one answer.
//
// A reservation with no outcome that is released is a tombstone: the order was
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
	// Give back what a rejected order may still hold, even when it is
	// found rejected: an earlier delivery may have reserved a line after
	// another one decided the rejection, and failed before giving it back.
	if r.Status == StatusRejected {
		r, err = s.unreserveLate(ctx, r)
	} else {
		r, err = s.settle(ctx, r)
	}
	if err != nil {
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
// reservation moves reserved -> committing, every line is committed, and
// the reservation moves to committed.
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
	_, err = s.settle(ctx, r)
	return s.done(err)
}

// OrderCancelled gives the order's units back, reserved units as well as
// sold ones (a confirmed order that is cancelled is refunded): the reservation
// moves to releasing, remembering where the units were held, every line is
// released, and the reservation moves to released.
//
// A cancelled order with no reservation yet had its order.created still on
// the way: a released reservation with no outcome is inserted as a tombstone,
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
	_, err = s.settle(ctx, r)
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

// move makes one move of the order's reservation: f decides it from the
// reservation as read (false: no move, it stays as it is), and the write is
// guarded by what was read; a lost race reads it again and asks f again.
// It returns the reservation as it stands after the move, or as f left
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
