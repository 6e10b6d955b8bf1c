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

// Store keeps products and reservations. Implementations report
// ErrNotFound, ErrExists and ErrConflict. Writes are guarded by the Version
// each value was read with (first-write concurrency), so that a write based
// on a stale read fails with ErrConflict instead of losing an update.
type Store interface {
	Get(ctx context.Context, sku string) (Product, error)
	// List returns up to limit products whose SKU sorts after the given one.
	List(ctx context.Context, after string, limit int) (Page, error)
	// Seed stores products only when the catalog is empty, in one
	// transaction; it reports ErrExists when the catalog already has products.
	Seed(ctx context.Context, products []Product) error
	// Create adds a new product to the catalog: the product and the
	// catalog's list of SKUs in one transaction. It reports ErrExists when
	// the SKU is taken, ErrConflict when the catalog changed meanwhile.
	Create(ctx context.Context, p Product) error
	// Load reads the products with the given SKUs (those that do not exist
	// are not in the map) and, when orderID is not empty, the order's
	// reservation (nil when there is none), all with their versions.
	Load(ctx context.Context, orderID string, skus []string) (map[string]Product, *Reservation, error)
	// Save writes existing products and r (nil for none) in one
	// transaction, each guarded by its version; a reservation without a
	// version is inserted only if absent. ErrConflict when any of them
	// changed since it was read.
	Save(ctx context.Context, products []Product, r *Reservation) error
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

// SeedDemo puts the demo catalog into an empty store. A store that already
// has products (a restart, or another replica that won the race) is left as
// it is.
func SeedDemo(ctx context.Context, s Store) (seeded bool, err error) {
	err = s.Seed(ctx, DemoCatalog())
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, ErrExists), errors.Is(err, ErrConflict):
		return false, nil
	default:
		return false, fmt.Errorf("seed demo catalog: %w", err)
	}
}
