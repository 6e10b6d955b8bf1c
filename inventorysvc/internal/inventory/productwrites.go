package inventory

import (
	"context"
	"fmt"
	"maps"
	"time"
)

// productWork is one delivery's write of a product: step 1 of apply (the
// step applied and marked), or step 3 (the mark removed, when unmark is
// set). The write fills in the outcome.
type productWork struct {
	orderID string
	line    Line
	step    Step
	unmark  bool

	// The outcome, set by the write that carried the work.
	recorded Step    // the line's step as the reservation recorded it
	plan     plan    // what the step needed on the product
	moved    bool    // the reservation no longer takes the step
	err      error   // this work's own failure (the others' went on)
	product  Product // the product as written, or as read when unchanged
}

// productWriteTimeout bounds one grouped write of a product.
const productWriteTimeout = 30 * time.Second

// maxProductGroup bounds the deliveries one write of a product carries:
// their reservations are read in one bulk read.
const maxProductGroup = 64

// writeProduct carries out the work of every delivery that waited for the
// product in one optimistic-concurrency update of it: the deliveries of
// orders on one product all write the same key, so each writing on its
// own would race the others and retry; grouped, one write carries them
// all (platform/batch, one write at a time per product in a replica).
//
// The update reads the product P, then (in one bulk read) the reservations
// of the orders whose steps it applies, and decides each step as apply
// describes, in the order the work arrived, on P as the work before it
// left it. Work of one order only changes that order's mark and the stock
// it holds, so each decision sees P as a write of its own would; the one
// guarded write of P commits them together, or, when P changed since it
// was read, none of them, and the update reads P again and decides again.
// A step that fails on its own (out of stock, a state that breaks an
// invariant) is left out and reported to its delivery; the others go on.
func (s *Service) writeProduct(ctx context.Context, sku string, work []*productWork) error {
	skip := map[string]bool{}
	var ids []string
	for _, w := range work {
		skip[w.orderID] = true
		if !w.unmark {
			ids = append(ids, w.orderID)
		}
	}
	p, err := s.store.UpdateProduct(ctx, sku, func(p *Product) error {
		var rs map[string]Reservation
		if len(ids) > 0 {
			var err error
			if rs, err = s.store.Reservations(ctx, ids); err != nil {
				return err
			}
		}
		changed, err := s.sweep(ctx, p, skip)
		if err != nil {
			return err
		}
		for _, w := range work {
			if s.decide(p, w, rs) {
				changed = true
			}
		}
		if !changed {
			return ErrUnchanged
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, w := range work {
		w.product = p
	}
	return nil
}

// decide carries out w on p (step 1 of apply, or its clean-up) and reports
// whether p changed. rs are the reservations, read after p.
func (s *Service) decide(p *Product, w *productWork, rs map[string]Reservation) bool {
	w.recorded, w.plan, w.moved, w.err = StepNone, planPast, false, nil
	if w.unmark {
		return p.unmark(w.orderID, w.step)
	}
	r, ok := rs[w.orderID]
	if !ok {
		w.err = fmt.Errorf("order %s has no reservation: %w", w.orderID, ErrInvariant)
		return false
	}
	w.recorded = r.Applied[w.line.SKU]
	if w.moved = !r.Status.permits(w.step); w.moved {
		return false
	}
	cur := p.StepOf(w.orderID, w.recorded)
	pl, err := planStep(cur, w.step)
	if err != nil {
		w.err = fmt.Errorf("order %s: %w", w.orderID, err)
		return false
	}
	w.plan = pl
	if pl != planApply {
		return false
	}
	before := *p
	before.Marks = maps.Clone(p.Marks)
	if err := p.applyStep(w.orderID, cur, w.step, w.line.Quantity, s.now()); err != nil {
		*p = before
		w.err = err
		return false
	}
	return true
}
