package inventory

import (
	"context"
	"sync/atomic"
	"time"

	"shop/platform/batch"
)

// Publisher announces the answer to an order's order.created: reserved, or
// rejected with the reason of every line that could not be reserved.
type Publisher interface {
	PublishOutcome(ctx context.Context, r Reservation) error
}

// Service carries out the inventory's use cases on a Store: every write is
// an optimistic-concurrency update of one key (see Store).
type Service struct {
	store Store
	pub   Publisher
	now   func() time.Time

	// productWrites groups the deliveries' writes of each product
	// (writeProduct).
	productWrites *batch.Keyed[*productWork]

	conflictsExhausted atomic.Int64
	published          atomic.Int64
	outcomes           [4]atomic.Int64 // by the index of Stats' decision counters
}

// Option changes a Service; tests use them.
type Option func(*Service)

// WithClock replaces the clock that dates product marks.
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// NewService returns the inventory's use cases on store, announcing
// outcomes with pub.
func NewService(store Store, pub Publisher, opts ...Option) *Service {
	s := &Service{store: store, pub: pub, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	s.productWrites = batch.NewKeyed(productWriteTimeout, maxProductGroup, s.writeProduct)
	return s
}

// Reservation returns what the inventory knows of an order.
func (s *Service) Reservation(ctx context.Context, orderID string) (Reservation, error) {
	return s.store.Reservation(ctx, orderID)
}
