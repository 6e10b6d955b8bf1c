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
	// ErrUnchanged, returned by the function given to a Store's update,
	// tells the store to write nothing.
	ErrUnchanged = errors.New("unchanged")
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
	// Marks holds, by order id, the steps applied to the product that the
	// order's reservation may not record yet (see Step): at most one per
	// order in flight, so its size follows the orders in flight, not the
	// orders ever placed.
	Marks map[string]Mark `json:"marks,omitempty"`
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
// ErrConflict.
//
// The updates are optimistic-concurrency loops: the store reads the value,
// calls fn, and writes what fn left guarded by what it read (first-write
// when the value is new), reading and calling fn again when a concurrent
// writer got there first, a bounded number of times (then ErrConflict).
// fn may therefore run more than once; when it returns ErrUnchanged
// nothing is written and the update returns the value as read; any other
// error ends the update with it.
type Store interface {
	// Product reads one product.
	Product(ctx context.Context, sku string) (Product, error)
	// Products reads the products with the given SKUs; those that do not
	// exist are not in the map.
	Products(ctx context.Context, skus []string) (map[string]Product, error)
	// List returns up to limit listed products whose SKU sorts after the
	// given one.
	List(ctx context.Context, after string, limit int) (Page, error)
	// InsertProduct stores a new product; ErrExists when the SKU is taken.
	InsertProduct(ctx context.Context, p Product) error
	// UpdateProduct updates an existing product with fn; ErrNotFound when
	// there is none. A product whose stock would not add up is not
	// written (ErrInvariant).
	UpdateProduct(ctx context.Context, sku string, fn func(p *Product) error) (Product, error)
	// AddToCatalog adds SKUs to the catalog index (a set: adding one that
	// is listed changes nothing).
	AddToCatalog(ctx context.Context, skus ...string) error
	// Reservation reads an order's reservation.
	Reservation(ctx context.Context, orderID string) (Reservation, error)
	// InsertReservation stores a new reservation; ErrExists when the
	// order has one.
	InsertReservation(ctx context.Context, r Reservation) error
	// Reservations reads the reservations of the given orders; those that
	// do not exist are not in the map.
	Reservations(ctx context.Context, orderIDs []string) (map[string]Reservation, error)
	// UpdateReservation updates an order's reservation with fn, which is
	// told whether there is one (found false: r is the zero value, and
	// what fn leaves in it is inserted if the key is still absent).
	UpdateReservation(ctx context.Context, orderID string, fn func(r *Reservation, found bool) error) (Reservation, error)
}

// ConflictCounter is what a Store may also tell: how many of its writes
// lost an optimistic-concurrency race (most were then tried again).
type ConflictCounter interface {
	Conflicts() int64
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
	if err := s.store.AddToCatalog(ctx, skus...); err != nil {
		return seeded, fmt.Errorf("seed demo catalog: %w", err)
	}
	return seeded, nil
}
