// Package payment is a simulated card payment provider: tok_visa approves,
// tok_decline declines. Like a real provider it takes the order id as an
// idempotency key, so a charge or a refund sent twice happens once. Its
// ledger lives in the order service's state store (keys payment:<order id>).
package payment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	dapr "github.com/dapr/go-sdk/client"

	"shop/platform/daprstate"
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

// StateClient is the part of the Dapr client the ledger calls.
type StateClient interface {
	GetState(ctx context.Context, storeName, key string, meta map[string]string) (*dapr.StateItem, error)
	SaveState(ctx context.Context, storeName, key string, data []byte, meta map[string]string, so ...dapr.StateOption) error
	SaveStateWithETag(ctx context.Context, storeName, key string, data []byte, etag string, meta map[string]string, so ...dapr.StateOption) error
}

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
	client StateClient
	store  string
}

// NewSimulated returns the provider keeping its ledger in store.
func NewSimulated(client StateClient, store string) *Simulated {
	return &Simulated{client: client, store: store}
}

func key(orderID string) string { return "payment:" + orderID }

// KnownToken reports whether the provider knows the card token.
func (p *Simulated) KnownToken(token string) bool {
	return token == TokenApprove || token == TokenDecline
}

// Get returns the order's payment record, if any.
func (p *Simulated) Get(ctx context.Context, orderID string) (Record, string, bool, error) {
	var r Record
	item, err := p.client.GetState(ctx, p.store, key(orderID), nil)
	if err != nil {
		return r, "", false, fmt.Errorf("get payment %s: %w", orderID, err)
	}
	if len(item.Value) == 0 {
		return r, "", false, nil
	}
	if err := json.Unmarshal(item.Value, &r); err != nil {
		return r, "", false, fmt.Errorf("decode payment %s: %w", orderID, err)
	}
	return r, item.Etag, true, nil
}

// Status is the payment status of an order: none, charged, declined or
// refunded.
func (p *Simulated) Status(ctx context.Context, orderID string) (string, error) {
	r, _, found, err := p.Get(ctx, orderID)
	if err != nil || !found {
		return StatusNone, err
	}
	return r.Status(), nil
}

var firstWrite = dapr.WithConcurrency(dapr.StateConcurrencyFirstWrite)

// Charge charges the order once: a second call answers the first outcome.
func (p *Simulated) Charge(ctx context.Context, orderID, token string, amountCents int64) (bool, error) {
	if r, _, found, err := p.Get(ctx, orderID); err != nil || found {
		return r.Approved, err
	}
	r := Record{OrderID: orderID, AmountCents: amountCents, Approved: token == TokenApprove, ChargedAt: time.Now().UTC()}
	b, err := json.Marshal(r)
	if err != nil {
		return false, err
	}
	// Insert only: of two concurrent charges, one writes and the other
	// reads what it wrote.
	err = p.client.SaveState(ctx, p.store, key(orderID), b, nil, firstWrite)
	if daprstate.IsConflict(err) {
		existing, _, _, err := p.Get(ctx, orderID)
		return existing.Approved, err
	}
	if err != nil {
		return false, fmt.Errorf("charge %s: %w", orderID, err)
	}
	return r.Approved, nil
}

// Refund refunds an approved charge of the order once; with no charge, or a
// declined one, there is nothing to refund.
func (p *Simulated) Refund(ctx context.Context, orderID string) error {
	for attempt := 0; attempt < 20; attempt++ {
		r, etag, found, err := p.Get(ctx, orderID)
		if err != nil {
			return err
		}
		if !found || !r.Approved || r.Refunded {
			return nil
		}
		r.Refunded, r.RefundedAt = true, time.Now().UTC()
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		err = p.client.SaveStateWithETag(ctx, p.store, key(orderID), b, etag, nil, firstWrite)
		if err == nil || !daprstate.IsConflict(err) {
			return err
		}
	}
	return errors.New("refund " + orderID + ": too many concurrent updates")
}
