// Package inventory is the domain of the inventory service: products, their
// stock, and the rules that keep stock consistent. It knows nothing of Dapr
// or HTTP; it declares the Store it needs.
package inventory

import (
	"context"
	"errors"
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
