package inventory

import (
	"context"
	"errors"
	"testing"
)

func TestCheckInvariant(t *testing.T) {
	tests := []struct {
		name string
		p    Product
		ok   bool
	}{
		{"balanced", Product{SKU: "A1", Available: 5, Reserved: 3, Sold: 2, Received: 10}, true},
		{"lost unit", Product{SKU: "A1", Available: 5, Reserved: 3, Sold: 1, Received: 10}, false},
		{"negative", Product{SKU: "A1", Available: -1, Reserved: 1, Received: 0}, false},
	}
	for _, tt := range tests {
		if err := tt.p.CheckInvariant(); (err == nil) != tt.ok {
			t.Errorf("%s: CheckInvariant() = %v; want ok=%v", tt.name, err, tt.ok)
		}
	}
}

func TestValidSKU(t *testing.T) {
	tests := map[string]bool{"BOOK-GO": true, "A1": true, "a1": false, "-A": false, "": false, "A": false, "A B": false,
		"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456": false}
	for sku, want := range tests {
		if got := ValidSKU(sku); got != want {
			t.Errorf("ValidSKU(%q) = %v; want %v", sku, got, want)
		}
	}
}

func TestDemoCatalogIsValid(t *testing.T) {
	seen := map[string]bool{}
	for _, p := range DemoCatalog() {
		if !ValidSKU(p.SKU) || p.Name == "" || p.PriceCents <= 0 || seen[p.SKU] {
			t.Errorf("demo product %+v is not valid or is a duplicate", p)
		}
		if err := p.CheckInvariant(); err != nil {
			t.Error(err)
		}
		seen[p.SKU] = true
	}
}

func TestSeedDemoIsIdempotent(t *testing.T) {
	ctx := context.Background()
	store := &fakeStore{products: map[string]Product{}, catalog: map[string]bool{}}
	svc := NewService(store, nil)
	seeded, err := SeedDemo(ctx, svc)
	if err != nil || !seeded {
		t.Fatalf("SeedDemo(empty) = %v, %v; want seeded", seeded, err)
	}
	p := store.products["BOOK-GO"]
	p.Available, p.Sold = p.Available-1, 1 // sold from since
	store.products["BOOK-GO"] = p
	delete(store.catalog, "MUG-DAPR") // a seed that failed before listing
	delete(store.products, "HOODIE-CNCF")
	seeded, err = SeedDemo(ctx, svc)
	if err != nil || !seeded {
		t.Fatalf("SeedDemo(partly seeded) = %v, %v; want seeded", seeded, err)
	}
	if store.products["BOOK-GO"].Sold != 1 {
		t.Error("SeedDemo overwrote a product that exists")
	}
	for _, d := range DemoCatalog() {
		if _, ok := store.products[d.SKU]; !ok || !store.catalog[d.SKU] {
			t.Errorf("%s: stored %v, listed %v; want both", d.SKU, ok, store.catalog[d.SKU])
		}
	}
	if seeded, err = SeedDemo(ctx, svc); err != nil || seeded {
		t.Errorf("SeedDemo(seeded) = %v, %v; want nothing to do", seeded, err)
	}
	store.err = errors.New("unavailable")
	if _, err := SeedDemo(ctx, svc); err == nil {
		t.Error("SeedDemo(store down) succeeded")
	}
}

// fakeStore is the least of a Store that SeedDemo needs.
type fakeStore struct {
	Store
	products map[string]Product
	catalog  map[string]bool
	err      error
}

func (s *fakeStore) InsertProduct(_ context.Context, p Product) error {
	if s.err != nil {
		return s.err
	}
	if _, ok := s.products[p.SKU]; ok {
		return ErrExists
	}
	s.products[p.SKU] = p
	return nil
}

func (s *fakeStore) AddToCatalog(_ context.Context, skus ...string) error {
	for _, sku := range skus {
		s.catalog[sku] = true
	}
	return nil
}
