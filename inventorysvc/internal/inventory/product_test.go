package inventory

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"shop/platform/validation"
)

func TestNewProduct(t *testing.T) {
	valid := NewProduct{SKU: "MUG-1", Name: "  Mug  ", PriceCents: 1299, Stock: 10}
	with := func(f func(*NewProduct)) NewProduct { n := valid; f(&n); return n }
	tests := []struct {
		name   string
		in     NewProduct
		fields []string // the fields named invalid; nil when valid
	}{
		{"valid", valid, nil},
		{"no stock is fine", with(func(n *NewProduct) { n.Stock = 0 }), nil},
		{"limits", with(func(n *NewProduct) {
			n.PriceCents, n.Stock, n.Name = MaxPriceCents, MaxStock, strings.Repeat("é", MaxNameLength)
		}), nil},
		{"lower-case sku", with(func(n *NewProduct) { n.SKU = "mug-1" }), []string{"sku"}},
		{"blank name", with(func(n *NewProduct) { n.Name = "   " }), []string{"name"}},
		{"long name", with(func(n *NewProduct) { n.Name = strings.Repeat("x", MaxNameLength+1) }), []string{"name"}},
		{"free", with(func(n *NewProduct) { n.PriceCents = 0 }), []string{"price_cents"}},
		{"too dear", with(func(n *NewProduct) { n.PriceCents = MaxPriceCents + 1 }), []string{"price_cents"}},
		{"negative stock", with(func(n *NewProduct) { n.Stock = -1 }), []string{"stock"}},
		{"too much stock", with(func(n *NewProduct) { n.Stock = MaxStock + 1 }), []string{"stock"}},
		{"everything wrong", NewProduct{SKU: "", Name: "", PriceCents: -5, Stock: -5}, []string{"sku", "name", "price_cents", "stock"}},
	}
	for _, tt := range tests {
		p, err := tt.in.Product()
		var invalid validation.Errors
		errors.As(err, &invalid)
		var fields []string
		for _, f := range invalid {
			fields = append(fields, f.Field)
		}
		if !slices.Equal(fields, tt.fields) || (err != nil) != (tt.fields != nil) {
			t.Errorf("%s: Product() error = %v; want invalid fields %v", tt.name, err, tt.fields)
			continue
		}
		if err == nil {
			if p.Name != strings.TrimSpace(tt.in.Name) || p.Available != tt.in.Stock || p.Received != tt.in.Stock || p.CheckInvariant() != nil {
				t.Errorf("%s: Product() = %+v; want trimmed name and all stock available", tt.name, p)
			}
		}
	}
}

func TestRestock(t *testing.T) {
	tests := []struct {
		quantity int64
		ok       bool
	}{{1, true}, {MaxRestock, true}, {0, false}, {-1, false}, {MaxRestock + 1, false}}
	for _, tt := range tests {
		p := Product{SKU: "A1", Available: 1, Reserved: 2, Sold: 3, Received: 6}
		err := p.Restock(tt.quantity)
		if (err == nil) != tt.ok {
			t.Errorf("Restock(%d) = %v; want ok=%v", tt.quantity, err, tt.ok)
			continue
		}
		if tt.ok && (p.Available != 1+tt.quantity || p.Received != 6+tt.quantity || p.CheckInvariant() != nil) {
			t.Errorf("Restock(%d) left %+v", tt.quantity, p)
		}
	}
}
