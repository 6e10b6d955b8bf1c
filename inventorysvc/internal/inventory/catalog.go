package inventory

import (
	"context"
	"errors"
	"fmt"
)

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
