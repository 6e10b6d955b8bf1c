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

type seedStore struct {
	Store
	err   error
	calls int
}

func (s *seedStore) Seed(context.Context, []Product) error { s.calls++; return s.err }

func TestSeedDemo(t *testing.T) {
	tests := []struct {
		name     string
		storeErr error
		seeded   bool
		fails    bool
	}{
		{"empty store", nil, true, false},
		{"already seeded", ErrExists, false, false},
		{"lost the race", ErrConflict, false, false},
		{"store down", errors.New("unavailable"), false, true},
	}
	for _, tt := range tests {
		s := &seedStore{err: tt.storeErr}
		seeded, err := SeedDemo(context.Background(), s)
		if seeded != tt.seeded || (err != nil) != tt.fails {
			t.Errorf("%s: SeedDemo() = %v, %v; want %v, fails=%v", tt.name, seeded, err, tt.seeded, tt.fails)
		}
	}
}
