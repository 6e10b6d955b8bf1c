// Package payment is a simulated card payment provider: tok_visa approves,
// tok_decline declines. Like a real provider it takes the order id as an
// idempotency key, so a charge or a refund sent twice happens once. Its
// ledger lives in the order service's state store (keys payment:<order id>).
package payment

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"shop/platform/daprstate"
	"shop/platform/telemetry"
)

// Test card tokens.
const (
	TokenApprove = "tok_visa"
	TokenDecline = "tok_decline"
)

// Statuses of a payment, as the order API shows them.
const (
	StatusNone     = "none"
	StatusCharged  = "charged"
	StatusDeclined = "declined"
	StatusRefunded = "refunded"
)

// Record is the ledger entry of one order's payment.
type Record struct {
	OrderID     string    `json:"order_id"`
	AmountCents int64     `json:"amount_cents"`
	Approved    bool      `json:"approved"`
	Refunded    bool      `json:"refunded"`
	ChargedAt   time.Time `json:"charged_at"`
	RefundedAt  time.Time `json:"refunded_at,omitzero"`
}

// Status is what the record says of the payment.
func (r Record) Status() string {
	switch {
	case r.Refunded:
		return StatusRefunded
	case r.Approved:
		return StatusCharged
	default:
		return StatusDeclined
	}
}

// Simulated is the provider.
type Simulated struct {
	db        *daprstate.Store
	delay     time.Duration
	failRate  float64
	failures  atomic.Uint64 // failures injected so far; odd ones lose the answer
	onCharged func(ctx context.Context, orderID string, amountCents int64, approved bool)
}

// ErrUnavailable is a transient failure of the provider: the call may be
// repeated (with the same order id, so that nothing is charged twice).
var ErrUnavailable = errors.New("payment provider unavailable; try again")

// Option changes the provider.
type Option func(*Simulated)

// WithDelay makes every new charge take d before it is recorded, as a slow
// provider would. It is for tests of the saga's races (the saga timeout
// against the confirm step); production leaves it at zero.
func WithDelay(d time.Duration) Option { return func(p *Simulated) { p.delay = d } }

// WithFailures makes a fraction rate (0 to 1) of new charges fail with
// ErrUnavailable, as a flaky provider would: every other failure before
// the charge (refused), the others after it (the charge is made and the
// answer lost). It is for tests of the saga against a failing provider;
// production leaves it at zero.
func WithFailures(rate float64) Option { return func(p *Simulated) { p.failRate = rate } }

// WithCharged calls fn once for each charge made (the ledger record
// written), not for a repeated call that answers a recorded charge.
func WithCharged(fn func(ctx context.Context, orderID string, amountCents int64, approved bool)) Option {
	return func(p *Simulated) { p.onCharged = fn }
}

// fail reports whether to fail this call, and whether after the charge.
func (p *Simulated) fail() (fail, afterCharge bool) {
	if p.failRate <= 0 || rand.Float64() >= p.failRate {
		return false, false
	}
	return true, p.failures.Add(1)%2 == 0
}

// NewSimulated returns the provider keeping its ledger in db.
func NewSimulated(db *daprstate.Store, opts ...Option) *Simulated {
	p := &Simulated{db: db}
	for _, o := range opts {
		o(p)
	}
	return p
}

func key(orderID string) string { return "payment:" + orderID }

// KnownToken reports whether the provider knows the card token.
func (p *Simulated) KnownToken(token string) bool {
	return token == TokenApprove || token == TokenDecline
}

// Get returns the order's payment record, if any.
func (p *Simulated) Get(ctx context.Context, orderID string) (Record, bool, error) {
	r, found, err := daprstate.Get[Record](ctx, p.db, key(orderID))
	if err != nil {
		return r, false, fmt.Errorf("get payment %s: %w", orderID, err)
	}
	return r, found, nil
}

// Status is the payment status of an order: none, charged, declined or
// refunded.
func (p *Simulated) Status(ctx context.Context, orderID string) (string, error) {
	r, found, err := p.Get(ctx, orderID)
	if err != nil || !found {
		return StatusNone, err
	}
	return r.Status(), nil
}

// Charge charges the order once: the ledger record of the order is
// inserted only if absent, so of two charges, concurrent or one after the
// other, one writes and the other answers what it wrote. The charge is a
// span of its own (payment.charge), as a call to a real provider would be.
func (p *Simulated) Charge(ctx context.Context, orderID, token string, amountCents int64) (approved bool, err error) {
	ctx, span := telemetry.Start(ctx, "payment.charge", trace.SpanKindClient,
		telemetry.OrderIDKey.String(orderID), attribute.Int64("payment.amount_cents", amountCents))
	defer func() {
		span.SetAttributes(attribute.Bool("payment.approved", approved))
		telemetry.End(span, err)
	}()
	return p.charge(ctx, orderID, token, amountCents)
}

func (p *Simulated) charge(ctx context.Context, orderID, token string, amountCents int64) (bool, error) {
	if r, found, err := p.Get(ctx, orderID); err != nil || found {
		return r.Approved, err
	}
	if p.delay > 0 {
		t := time.NewTimer(p.delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return false, ctx.Err()
		case <-t.C:
		}
	}
	fail, afterCharge := p.fail()
	if fail && !afterCharge {
		return false, fmt.Errorf("charge %s: %w", orderID, ErrUnavailable)
	}
	r := Record{OrderID: orderID, AmountCents: amountCents, Approved: token == TokenApprove, ChargedAt: time.Now().UTC()}
	err := daprstate.Insert(ctx, p.db, key(orderID), r)
	if errors.Is(err, daprstate.ErrConflict) {
		existing, _, err := p.Get(ctx, orderID)
		return existing.Approved, err
	}
	if err != nil {
		return false, fmt.Errorf("charge %s: %w", orderID, err)
	}
	if p.onCharged != nil {
		p.onCharged(ctx, orderID, amountCents, r.Approved)
	}
	if fail {
		return false, fmt.Errorf("charge %s: answer lost: %w", orderID, ErrUnavailable)
	}
	return r.Approved, nil
}

// Refund refunds an approved charge of the order once; with no charge, or a
// declined one, there is nothing to refund.
func (p *Simulated) Refund(ctx context.Context, orderID string) error {
	_, err := daprstate.Update(ctx, p.db, key(orderID), func(r *Record, found bool) error {
		if !found || !r.Approved || r.Refunded {
			return daprstate.ErrUnchanged
		}
		r.Refunded, r.RefundedAt = true, time.Now().UTC()
		return nil
	})
	if err != nil {
		return fmt.Errorf("refund %s: %w", orderID, err)
	}
	return nil
}
