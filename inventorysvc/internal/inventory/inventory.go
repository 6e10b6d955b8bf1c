// Package inventory is the domain of the inventory service: products, their
// stock, and the rules that keep stock consistent. It knows nothing of Dapr
// or HTTP; it declares the Store it needs.
package inventory

import (
	"context"
	"errors"
	"fmt"
	"regexp"
)

// Errors the domain reports; adapters translate their own errors into these.
var (
	ErrNotFound = errors.New("not found")
	ErrExists   = errors.New("already exists")
	ErrConflict = errors.New("concurrent update")
	// ErrInvariant is a write refused because the stock would not add up:
	// a bug, never a client's mistake.
	ErrInvariant = errors.New("stock invariant violated")
)

// Product is a sellable item and its stock. Received counts every unit ever
// put into stock, so that Received == Available + Reserved + Sold always.
type Product struct {
	SKU        string `json:"sku"`
	Name       string `json:"name"`
	PriceCents int64  `json:"price_cents"`
	Available  int64  `json:"available"`
	Reserved   int64  `json:"reserved"`
	Sold       int64  `json:"sold"`
	Received   int64  `json:"received"`
	// Log holds the newest "<order id>:<step>" entries of the order steps
	// applied to the product (see Step): each is applied at most once.
	Log []string `json:"log,omitempty"`
	// Version is the store's concurrency token (its ETag) of the product
	// as it was read; writes are guarded by it. It is not stored.
	Version string `json:"-"`
}

// CheckInvariant returns an error when the stock counters do not add up.
func (p Product) CheckInvariant() error {
	if p.Available < 0 || p.Reserved < 0 || p.Sold < 0 {
		return fmt.Errorf("product %s: negative stock (available %d, reserved %d, sold %d): %w", p.SKU, p.Available, p.Reserved, p.Sold, ErrInvariant)
	}
	if p.Received != p.Available+p.Reserved+p.Sold {
		return fmt.Errorf("product %s: received %d != available %d + reserved %d + sold %d: %w", p.SKU, p.Received, p.Available, p.Reserved, p.Sold, ErrInvariant)
	}
	return nil
}

// skuPattern is what a SKU looks like: upper-case letters, digits and dashes.
var skuPattern = regexp.MustCompile(`^[A-Z0-9][A-Z0-9-]{1,31}$`)

// ValidSKU reports whether s can name a product.
func ValidSKU(s string) bool { return skuPattern.MatchString(s) }

// Page is one page of a listing, in SKU order.
type Page struct {
	Products []Product
	// Next is the SKU to continue after, or "" on the last page.
	Next string
}

// Store keeps products, the catalog index and reservations, one key each.
// Every write is a single-key write: none relies on a multi-key
// transaction, which not every state store applies all or nothing (see
// inventorystore). Implementations report ErrNotFound, ErrExists and
// ErrConflict. Writes are guarded by the Version each value was read with
// (first-write concurrency), so that a write based on a stale read fails
// with ErrConflict instead of losing an update; a value without a Version
// is inserted only if absent.
type Store interface {
	// Product reads one product, with its version.
	Product(ctx context.Context, sku string) (Product, error)
	// Products reads the products with the given SKUs; those that do not
	// exist are not in the map.
	Products(ctx context.Context, skus []string) (map[string]Product, error)
	// List returns up to limit listed products whose SKU sorts after the
	// given one.
	List(ctx context.Context, after string, limit int) (Page, error)
	// InsertProduct stores a new product; ErrExists when the SKU is taken.
	InsertProduct(ctx context.Context, p Product) error
	// SaveProduct writes an existing product guarded by its version.
	SaveProduct(ctx context.Context, p Product) error
	// AddToCatalog adds SKUs to the catalog index (a set: adding one that
	// is listed changes nothing); ErrConflict when the index changed
	// since it was read, and the caller tries again.
	AddToCatalog(ctx context.Context, skus ...string) error
	// Reservation reads an order's reservation, with its version.
	Reservation(ctx context.Context, orderID string) (Reservation, error)
	// SaveReservation writes r guarded by its version, or inserts it
	// only if absent when it has none.
	SaveReservation(ctx context.Context, r Reservation) error
}

// DemoCatalog is the catalog a new installation starts with.
func DemoCatalog() []Product {
	items := []struct {
		sku, name string
		price     int64
		stock     int64
	}{
		{"BOOK-GO", "The Go Programming Language", 3999, 100},
		{"MUG-DAPR", "Dapr mascot mug", 1299, 250},
		{"SHIRT-GOPHER", "Gopher t-shirt", 2199, 80},
		{"STICKER-PACK", "Sticker pack", 499, 1000},
		{"HOODIE-CNCF", "CNCF hoodie", 4999, 40},
	}
	products := make([]Product, 0, len(items))
	for _, it := range items {
		products = append(products, Product{SKU: it.sku, Name: it.name, PriceCents: it.price, Available: it.stock, Received: it.stock})
	}
	return products
}

// SeedDemo puts the demo catalog into the store, product by product: each
// is inserted only if absent, then listed in the catalog index. It is
// idempotent, so restarts and replicas seeding at once are safe, and a
// product that exists (perhaps sold from since) is left as it is. seeded
// reports whether this call inserted any product.
func SeedDemo(ctx context.Context, s *Service) (seeded bool, err error) {
	products := DemoCatalog()
	skus := make([]string, 0, len(products))
	for _, p := range products {
		switch err := s.store.InsertProduct(ctx, p); {
		case err == nil:
			seeded = true
		case !errors.Is(err, ErrExists):
			return seeded, fmt.Errorf("seed demo product %s: %w", p.SKU, err)
		}
		skus = append(skus, p.SKU)
	}
	if err := s.retry(ctx, "list demo catalog", func() error { return s.store.AddToCatalog(ctx, skus...) }); err != nil {
		return seeded, fmt.Errorf("seed demo catalog: %w", err)
	}
	return seeded, nil
}
