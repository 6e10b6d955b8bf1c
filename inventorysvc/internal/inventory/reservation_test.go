package inventory

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func stock(sku string, available, reserved, sold int64) Product {
	return Product{SKU: sku, Name: sku, PriceCents: 100, Available: available, Reserved: reserved, Sold: sold,
		Received: available + reserved + sold, Version: "v-" + sku}
}

func catalog(products ...Product) map[string]Product {
	m := map[string]Product{}
	for _, p := range products {
		m[p.SKU] = p
	}
	return m
}

func TestMergeLines(t *testing.T) {
	tests := []struct {
		name  string
		items []Line
		want  []Line
		fails bool
	}{
		{"one line", []Line{{"A1", 2}}, []Line{{"A1", 2}}, false},
		{"same sku merged, sorted", []Line{{"B1", 1}, {"A1", 2}, {"B1", 3}}, []Line{{"A1", 2}, {"B1", 4}}, false},
		{"unknown-looking sku kept", []Line{{"lower", 1}}, []Line{{"lower", 1}}, false},
		{"no lines", nil, nil, true},
		{"no sku", []Line{{"", 1}}, nil, true},
		{"zero quantity", []Line{{"A1", 0}}, nil, true},
		{"negative quantity", []Line{{"A1", -3}}, nil, true},
		{"huge quantity", []Line{{"A1", MaxLineQuantity + 1}}, nil, true},
	}
	for _, tt := range tests {
		got, err := MergeLines(tt.items)
		if (err != nil) != tt.fails || (err != nil && !errors.Is(err, ErrMalformed)) {
			t.Errorf("%s: MergeLines(%v) error = %v; want malformed=%v", tt.name, tt.items, err, tt.fails)
			continue
		}
		if !tt.fails && !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: MergeLines(%v) = %v; want %v", tt.name, tt.items, got, tt.want)
		}
	}
	many := make([]Line, 0, MaxOrderLines+1)
	for i := range MaxOrderLines + 1 {
		many = append(many, Line{SKU: "S" + strings.Repeat("X", i%30) + string(rune('A'+i/30)), Quantity: 1})
	}
	if _, err := MergeLines(many); !errors.Is(err, ErrMalformed) {
		t.Errorf("MergeLines(%d distinct skus) error = %v; want ErrMalformed", len(many), err)
	}
}

func TestValidOrderID(t *testing.T) {
	tests := map[string]bool{"o-1": true, "3f2b9c1e-0c8a-4a51-9d0e-5a2f9b7f0c11": true, "": false, "a b": false,
		"tab\t": false, "é": false, strings.Repeat("x", 128): true, strings.Repeat("x", 129): false}
	for id, want := range tests {
		if got := ValidOrderID(id); got != want {
			t.Errorf("ValidOrderID(%q) = %v; want %v", id, got, want)
		}
	}
}

func TestDecideCreated(t *testing.T) {
	reserved := &Reservation{OrderID: "o1", Status: StatusReserved, Outcome: OutcomeReserved, Lines: []Line{{"A1", 2}}, Version: "7"}
	rejected := &Reservation{OrderID: "o1", Status: StatusRejected, Outcome: OutcomeRejected, Lines: []Line{{"A1", 2}},
		Rejections: []Rejection{{"A1", ReasonOutOfStock}}, Version: "7"}
	tombstone := &Reservation{OrderID: "o1", Status: StatusReleased, Version: "7"}
	tests := []struct {
		name       string
		lines      []Line
		existing   *Reservation
		products   map[string]Product
		write      bool
		status     Status
		outcome    Outcome
		rejections []Rejection
		after      []Product // the products written
	}{
		{
			name: "every line reserved", lines: []Line{{"A1", 2}, {"B1", 1}},
			products: catalog(stock("A1", 5, 0, 0), stock("B1", 1, 3, 2)),
			write:    true, status: StatusReserved, outcome: OutcomeReserved,
			after: []Product{stock("A1", 3, 2, 0), stock("B1", 0, 4, 2)},
		},
		{
			name: "one line short: nothing reserved", lines: []Line{{"A1", 2}, {"B1", 2}},
			products: catalog(stock("A1", 5, 0, 0), stock("B1", 1, 0, 0)),
			write:    true, status: StatusRejected, outcome: OutcomeRejected,
			rejections: []Rejection{{"B1", ReasonOutOfStock}},
		},
		{
			name: "unknown product: nothing reserved", lines: []Line{{"A1", 1}, {"ZZ", 1}},
			products: catalog(stock("A1", 5, 0, 0)),
			write:    true, status: StatusRejected, outcome: OutcomeRejected,
			rejections: []Rejection{{"ZZ", ReasonUnknownProduct}},
		},
		{
			name: "every failing line named", lines: []Line{{"A1", 9}, {"B1", 1}, {"ZZ", 1}},
			products: catalog(stock("A1", 5, 0, 0), stock("B1", 1, 0, 0)),
			write:    true, status: StatusRejected, outcome: OutcomeRejected,
			rejections: []Rejection{{"A1", ReasonOutOfStock}, {"ZZ", ReasonUnknownProduct}},
		},
		{
			name: "sold out: reserved counts do not help", lines: []Line{{"A1", 1}},
			products: catalog(stock("A1", 0, 4, 6)),
			write:    true, status: StatusRejected, outcome: OutcomeRejected,
			rejections: []Rejection{{"A1", ReasonOutOfStock}},
		},
		{
			name: "exactly what is available", lines: []Line{{"A1", 5}},
			products: catalog(stock("A1", 5, 0, 0)),
			write:    true, status: StatusReserved, outcome: OutcomeReserved,
			after: []Product{stock("A1", 0, 5, 0)},
		},
		{
			name: "redelivery of a reserved order", lines: []Line{{"A1", 2}}, existing: reserved,
			products: catalog(stock("A1", 3, 2, 0)),
			write:    false, status: StatusReserved, outcome: OutcomeReserved,
		},
		{
			name: "redelivery of a rejected order", lines: []Line{{"A1", 2}}, existing: rejected,
			products: catalog(stock("A1", 9, 0, 0)), // restocked since: the answer stays the same
			write:    false, status: StatusRejected, outcome: OutcomeRejected,
			rejections: []Rejection{{"A1", ReasonOutOfStock}},
		},
		{
			name: "created after cancelled", lines: []Line{{"A1", 2}, {"B1", 1}}, existing: tombstone,
			products: catalog(stock("A1", 9, 0, 0), stock("B1", 9, 0, 0)),
			write:    true, status: StatusReleased, outcome: OutcomeRejected,
			rejections: []Rejection{{"A1", ReasonOrderCancelled}, {"B1", ReasonOrderCancelled}},
		},
	}
	for _, tt := range tests {
		d, err := DecideCreated("o1", tt.lines, tt.existing, tt.products)
		if err != nil {
			t.Errorf("%s: DecideCreated() error = %v", tt.name, err)
			continue
		}
		r := d.Reservation
		if d.Write != tt.write || r.Status != tt.status || r.Outcome != tt.outcome || !reflect.DeepEqual(r.Rejections, tt.rejections) {
			t.Errorf("%s: DecideCreated() = write %v, %s/%s %v; want write %v, %s/%s %v", tt.name,
				d.Write, r.Status, r.Outcome, r.Rejections, tt.write, tt.status, tt.outcome, tt.rejections)
		}
		if !reflect.DeepEqual(d.Products, tt.after) && (len(d.Products) > 0 || len(tt.after) > 0) {
			t.Errorf("%s: DecideCreated() writes %+v; want %+v", tt.name, d.Products, tt.after)
		}
		if tt.existing != nil && r.Version != tt.existing.Version {
			t.Errorf("%s: the decision lost the reservation's version", tt.name)
		}
		if r.OrderID != "o1" {
			t.Errorf("%s: reservation order id = %q", tt.name, r.OrderID)
		}
	}
}

func TestDecideConfirmed(t *testing.T) {
	lines := []Line{{"A1", 2}, {"B1", 1}}
	res := func(s Status) *Reservation {
		return &Reservation{OrderID: "o1", Status: s, Outcome: OutcomeReserved, Lines: lines, Version: "3"}
	}
	held := catalog(stock("A1", 3, 2, 0), stock("B1", 0, 1, 4))
	tests := []struct {
		name     string
		existing *Reservation
		products map[string]Product
		err      error
		write    bool
		after    []Product
	}{
		{"reserved becomes sold", res(StatusReserved), held, nil, true, []Product{stock("A1", 3, 0, 2), stock("B1", 0, 0, 5)}},
		{"redelivery", res(StatusCommitted), held, nil, false, nil},
		{"cancelled first: stays released", res(StatusReleased), held, nil, false, nil},
		{"never reserved", nil, held, ErrNotApplicable, false, nil},
		{"rejected", res(StatusRejected), held, ErrNotApplicable, false, nil},
		{"product gone", res(StatusReserved), catalog(stock("A1", 3, 2, 0)), ErrInvariant, false, nil},
		{"less reserved than held", res(StatusReserved), catalog(stock("A1", 3, 1, 0), stock("B1", 0, 1, 4)), ErrInvariant, false, nil},
	}
	for _, tt := range tests {
		d, err := DecideConfirmed("o1", tt.existing, tt.products)
		if !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
			t.Errorf("%s: DecideConfirmed() error = %v; want %v", tt.name, err, tt.err)
			continue
		}
		if err != nil {
			continue
		}
		if d.Write != tt.write || !reflect.DeepEqual(d.Products, tt.after) && len(tt.after) > 0 {
			t.Errorf("%s: DecideConfirmed() = write %v %+v; want write %v %+v", tt.name, d.Write, d.Products, tt.write, tt.after)
		}
		if tt.write && d.Reservation.Status != StatusCommitted {
			t.Errorf("%s: status = %s; want committed", tt.name, d.Reservation.Status)
		}
	}
}

func TestDecideCancelled(t *testing.T) {
	lines := []Line{{"A1", 2}}
	res := func(s Status) *Reservation {
		return &Reservation{OrderID: "o1", Status: s, Outcome: OutcomeReserved, Lines: lines, Version: "3"}
	}
	tests := []struct {
		name     string
		existing *Reservation
		products map[string]Product
		err      error
		write    bool
		status   Status
		after    []Product
	}{
		{"reserved goes back", res(StatusReserved), catalog(stock("A1", 3, 2, 0)), nil, true, StatusReleased, []Product{stock("A1", 5, 0, 0)}},
		{"sold goes back", res(StatusCommitted), catalog(stock("A1", 3, 1, 2)), nil, true, StatusReleased, []Product{stock("A1", 5, 1, 0)}},
		{"before created: tombstone", nil, catalog(stock("A1", 3, 0, 0)), nil, true, StatusReleased, nil},
		{"rejected holds nothing", res(StatusRejected), catalog(stock("A1", 3, 0, 0)), nil, false, StatusRejected, nil},
		{"redelivery", res(StatusReleased), catalog(stock("A1", 3, 0, 0)), nil, false, StatusReleased, nil},
		{"corrupt: less sold than held", res(StatusCommitted), catalog(stock("A1", 3, 0, 1)), ErrInvariant, false, "", nil},
	}
	for _, tt := range tests {
		d, err := DecideCancelled("o1", tt.existing, tt.products)
		if !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
			t.Errorf("%s: DecideCancelled() error = %v; want %v", tt.name, err, tt.err)
			continue
		}
		if err != nil {
			continue
		}
		if d.Write != tt.write || d.Reservation.Status != tt.status || (len(tt.after) > 0 && !reflect.DeepEqual(d.Products, tt.after)) {
			t.Errorf("%s: DecideCancelled() = write %v %s %+v; want write %v %s %+v", tt.name, d.Write, d.Reservation.Status, d.Products, tt.write, tt.status, tt.after)
		}
	}
	d, _ := DecideCancelled("o1", nil, nil)
	if d.Reservation.Outcome != OutcomeNone || len(d.Reservation.Lines) != 0 || d.Reservation.Version != "" {
		t.Errorf("tombstone = %+v; want a new reservation with no outcome and no lines", d.Reservation)
	}
}

// TestSagaKeepsTheInvariant plays every order of events through the rules
// and checks that the stock adds up after each step, and that the final
// state depends only on which events arrived, not on their order.
func TestSagaKeepsTheInvariant(t *testing.T) {
	type event string
	const created, confirmed, cancelled event = "created", "confirmed", "cancelled"
	sequences := [][]event{
		{created, confirmed}, {created, cancelled}, {created, confirmed, cancelled},
		{cancelled, created}, {created, cancelled, confirmed}, {created, created, confirmed, confirmed, cancelled, cancelled},
		{cancelled, created, confirmed}, {created, confirmed, created},
	}
	lines := []Line{{"A1", 2}}
	for _, seq := range sequences {
		products := catalog(stock("A1", 5, 0, 0))
		var r *Reservation
		for _, ev := range seq {
			var d Decision
			var err error
			switch ev {
			case created:
				d, err = DecideCreated("o1", lines, r, products)
			case confirmed:
				d, err = DecideConfirmed("o1", r, products)
			case cancelled:
				d, err = DecideCancelled("o1", r, products)
			}
			if err != nil {
				if errors.Is(err, ErrNotApplicable) {
					continue // dropped; it changes nothing
				}
				t.Fatalf("%v: %s: %v", seq, ev, err)
			}
			if d.Write {
				for _, p := range d.Products {
					if err := p.CheckInvariant(); err != nil {
						t.Fatalf("%v: %s: %v", seq, ev, err)
					}
					products[p.SKU] = p
				}
				next := d.Reservation
				r = &next
			}
		}
		p := products["A1"]
		wantHeld := int64(0)
		if r.Status == StatusReserved || r.Status == StatusCommitted {
			wantHeld = 2
		}
		if p.Reserved+p.Sold != wantHeld || p.Received != 5 {
			t.Errorf("%v: ends %s with %+v; want %d units held", seq, r.Status, p, wantHeld)
		}
		if seq[len(seq)-1] == cancelled || seq[0] == cancelled {
			if p.Available != 5 {
				t.Errorf("%v: a cancelled order ends with available %d; want 5", seq, p.Available)
			}
		}
	}
}
