package inventory

import (
	"context"
	"errors"
	"sync/atomic"
	"time"
)

// Publisher announces the answer to an order's order.created: reserved, or
// rejected with the reason of every line that could not be reserved.
type Publisher interface {
	PublishOutcome(ctx context.Context, r Reservation) error
}

// StaleMarkAfter is how old a product's mark of another order must be
// before a write of the product checks whether that order's reservation
// records it, and drops it if so (a delivery that crashed before removing
// its mark). Younger marks belong to deliveries under way, which remove
// their own.
const StaleMarkAfter = 10 * time.Second

// maxSweep bounds the stale marks one product write checks.
const maxSweep = 16

// Service carries out the inventory's use cases on a Store: every write is
// an optimistic-concurrency update of one key (see Store).
type Service struct {
	store Store
	pub   Publisher
	now   func() time.Time

	conflictsExhausted atomic.Int64
	published          atomic.Int64
	outcomes           [4]atomic.Int64 // by the index of Stats' decision counters
}

// Stats counts what the service did since it started.
type Stats struct {
	// ConflictsRetried counts the store's guarded writes that lost an
	// optimistic-concurrency race (a changed ETag), when the store counts
	// them (ConflictCounter);
	// ConflictsExhausted counts operations that failed because their
	// updates kept losing.
	ConflictsRetried, ConflictsExhausted int64
	// Reserved, Rejected, Committed and Released count the reservations
	// that reached that state (redeliveries are not counted).
	Reserved, Rejected, Committed, Released int64
	// Published counts the outcomes published, redeliveries' included.
	Published int64
}

const (
	countReserved = iota
	countRejected
	countCommitted
	countReleased
)

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
	return s
}

// Stats returns the counters.
func (s *Service) Stats() Stats {
	st := Stats{
		ConflictsExhausted: s.conflictsExhausted.Load(),
		Reserved:           s.outcomes[countReserved].Load(),
		Rejected:           s.outcomes[countRejected].Load(),
		Committed:          s.outcomes[countCommitted].Load(),
		Released:           s.outcomes[countReleased].Load(),
		Published:          s.published.Load(),
	}
	if c, ok := s.store.(ConflictCounter); ok {
		st.ConflictsRetried = c.Conflicts()
	}
	return st
}

// done counts an operation that gave up on conflicts, and returns its error.
func (s *Service) done(err error) error {
	if errors.Is(err, ErrConflict) {
		s.conflictsExhausted.Add(1)
	}
	return err
}

// Product returns one product.
func (s *Service) Product(ctx context.Context, sku string) (Product, error) {
	return s.store.Product(ctx, sku)
}

// Products returns a page of the catalog.
func (s *Service) Products(ctx context.Context, after string, limit int) (Page, error) {
	return s.store.List(ctx, after, limit)
}

// Lookup returns the products with the given SKUs, in the order asked and
// each once, and the SKUs that name no product.
func (s *Service) Lookup(ctx context.Context, skus []string) ([]Product, []string, error) {
	unique := make([]string, 0, len(skus))
	seen := make(map[string]bool, len(skus))
	for _, sku := range skus {
		if !seen[sku] {
			seen[sku] = true
			unique = append(unique, sku)
		}
	}
	found := []Product{}
	missing := []string{}
	if len(unique) == 0 {
		return found, missing, nil
	}
	products, err := s.store.Products(ctx, unique)
	if err != nil {
		return nil, nil, err
	}
	for _, sku := range unique {
		if p, ok := products[sku]; ok {
			found = append(found, p)
		} else {
			missing = append(missing, sku)
		}
	}
	return found, missing, nil
}

// CreateProduct adds a product to the catalog; ErrExists when its SKU is
// taken, validation.Errors when n is not valid.
//
// Two single-key writes: the product is inserted only if absent, then its
// SKU is added to the catalog index. A create that fails between them (or
// whose index update keeps losing races) answers an error, and the admin's
// retry, answered ErrExists, still lists the product first: a product that
// exists is always listed once a create of it has answered.
func (s *Service) CreateProduct(ctx context.Context, n NewProduct) (Product, error) {
	p, err := n.Product()
	if err != nil {
		return Product{}, err
	}
	if err := p.CheckInvariant(); err != nil {
		return Product{}, err
	}
	inserted := s.store.InsertProduct(ctx, p)
	if inserted != nil && !errors.Is(inserted, ErrExists) {
		return Product{}, inserted
	}
	if err := s.store.AddToCatalog(ctx, p.SKU); err != nil {
		return Product{}, s.done(err)
	}
	if inserted != nil {
		return Product{}, inserted
	}
	return p, nil
}

// Restock adds quantity received units to a product's available stock.
func (s *Service) Restock(ctx context.Context, sku string, quantity int64) (Product, error) {
	if err := ValidRestock(quantity); err != nil {
		return Product{}, err
	}
	p, err := s.store.UpdateProduct(ctx, sku, func(p *Product) error { return p.Restock(quantity) })
	return p, s.done(err)
}

// Reservation returns what the inventory knows of an order.
func (s *Service) Reservation(ctx context.Context, orderID string) (Reservation, error) {
	return s.store.Reservation(ctx, orderID)
}
