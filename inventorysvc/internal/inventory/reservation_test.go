package inventory

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func stock(sku string, available, reserved, sold int64) Product {
	return Product{SKU: sku, Name: sku, PriceCents: 100, Available: available, Reserved: reserved, Sold: sold,
		Received: available + reserved + sold, Version: "v-" + sku}
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

func TestReservationTo(t *testing.T) {
	all := []Status{StatusReserving, StatusReserved, StatusRejecting, StatusRejected, StatusCommitting, StatusCommitted, StatusReleasing, StatusReleased}
	allowed := map[[2]Status]bool{
		{StatusReserving, StatusReserved}: true, {StatusReserving, StatusRejecting}: true,
		{StatusRejecting, StatusRejected}:  true,
		{StatusReserved, StatusCommitting}: true, {StatusReserved, StatusReleasing}: true,
		{StatusCommitting, StatusCommitted}: true, {StatusCommitting, StatusReleasing}: true,
		{StatusCommitted, StatusReleasing}: true,
		{StatusReleasing, StatusReleased}:  true,
	}
	for _, from := range all {
		for _, to := range all {
			r := Reservation{OrderID: "o1", Status: from, Lines: []Line{{"A1", 1}}, Version: "7"}
			got, err := r.To(to)
			if ok := allowed[[2]Status{from, to}]; (err == nil) != ok || (err != nil && !errors.Is(err, ErrInvariant)) {
				t.Errorf("Reservation{%s}.To(%s) error = %v; want allowed=%v", from, to, err, ok)
				continue
			}
			if err != nil {
				continue
			}
			if got.Status != to || got.Version != "7" || !reflect.DeepEqual(got.Lines, r.Lines) {
				t.Errorf("Reservation{%s}.To(%s) = %+v; want status %s, same lines and version", from, to, got, to)
			}
			wantOutcome := map[Status]Outcome{StatusReserved: OutcomeReserved, StatusRejected: OutcomeRejected}[to]
			if got.Outcome != wantOutcome {
				t.Errorf("Reservation{%s}.To(%s) outcome = %q; want %q", from, to, got.Outcome, wantOutcome)
			}
			if to == StatusReleasing && got.From != from {
				t.Errorf("Reservation{%s}.To(releasing) from = %q; want %q", from, got.From, from)
			}
		}
	}
}

func TestRejectAndAnswerCancelled(t *testing.T) {
	r := NewReservation("o1", []Line{{"A1", 2}, {"B1", 1}})
	if _, err := r.Reject(nil); !errors.Is(err, ErrInvariant) {
		t.Errorf("Reject(no reasons) = %v; want ErrInvariant", err)
	}
	got, err := r.Reject([]Rejection{{"B1", ReasonOutOfStock}})
	if err != nil || got.Status != StatusRejecting || got.Outcome != OutcomeNone || len(got.Rejections) != 1 {
		t.Errorf("Reject() = %+v, %v; want rejecting with one reason, no outcome yet", got, err)
	}
	ts := Tombstone("o1")
	if ts.Final() || ts.Status != StatusReleased {
		t.Errorf("Tombstone() = %+v; want released with no outcome", ts)
	}
	got, err = ts.AnswerCancelled(r.Lines)
	want := []Rejection{{"A1", ReasonOrderCancelled}, {"B1", ReasonOrderCancelled}}
	if err != nil || got.Status != StatusReleased || got.Outcome != OutcomeRejected || !reflect.DeepEqual(got.Rejections, want) {
		t.Errorf("AnswerCancelled() = %+v, %v; want released, rejected %v", got, err, want)
	}
	if _, err := got.AnswerCancelled(r.Lines); !errors.Is(err, ErrInvariant) {
		t.Errorf("AnswerCancelled(answered) = %v; want ErrInvariant", err)
	}
}

func TestProductSteps(t *testing.T) {
	withLog := func(p Product, entries ...string) Product { p.Log = entries; return p }
	tests := []struct {
		name    string
		p       Product
		step    func(p *Product) (bool, error)
		changed bool
		err     error
		want    Product
	}{
		{"reserve", stock("A1", 5, 0, 0), func(p *Product) (bool, error) { return p.Reserve("o1", 2) }, true, nil,
			withLog(stock("A1", 3, 2, 0), "o1:reserve")},
		{"reserve all", stock("A1", 2, 0, 0), func(p *Product) (bool, error) { return p.Reserve("o1", 2) }, true, nil,
			withLog(stock("A1", 0, 2, 0), "o1:reserve")},
		{"reserve short", stock("A1", 1, 4, 0), func(p *Product) (bool, error) { return p.Reserve("o1", 2) }, false, ErrOutOfStock,
			stock("A1", 1, 4, 0)},
		{"reserve again", withLog(stock("A1", 3, 2, 0), "o1:reserve"), func(p *Product) (bool, error) { return p.Reserve("o1", 2) }, false, nil,
			withLog(stock("A1", 3, 2, 0), "o1:reserve")},
		{"unreserve", withLog(stock("A1", 3, 2, 0), "o1:reserve"), func(p *Product) (bool, error) { return p.Unreserve("o1", 2) }, true, nil,
			withLog(stock("A1", 5, 0, 0), "o1:reserve", "o1:unreserve")},
		{"unreserve what was never reserved", stock("A1", 3, 2, 0), func(p *Product) (bool, error) { return p.Unreserve("o1", 2) }, false, nil,
			stock("A1", 3, 2, 0)},
		{"unreserve twice", withLog(stock("A1", 5, 0, 0), "o1:reserve", "o1:unreserve"), func(p *Product) (bool, error) { return p.Unreserve("o1", 2) }, false, nil,
			withLog(stock("A1", 5, 0, 0), "o1:reserve", "o1:unreserve")},
		{"commit", withLog(stock("A1", 3, 2, 0), "o1:reserve"), func(p *Product) (bool, error) { return p.Commit("o1", 2) }, true, nil,
			withLog(stock("A1", 3, 0, 2), "o1:reserve", "o1:commit")},
		{"commit twice", withLog(stock("A1", 3, 0, 2), "o1:commit"), func(p *Product) (bool, error) { return p.Commit("o1", 2) }, false, nil,
			withLog(stock("A1", 3, 0, 2), "o1:commit")},
		{"commit after release", withLog(stock("A1", 5, 0, 0), "o1:release"), func(p *Product) (bool, error) { return p.Commit("o1", 2) }, false, nil,
			withLog(stock("A1", 5, 0, 0), "o1:release")},
		{"release reserved", withLog(stock("A1", 3, 2, 0), "o1:reserve"), func(p *Product) (bool, error) { return p.Release("o1", 2, StatusReserved) }, true, nil,
			withLog(stock("A1", 5, 0, 0), "o1:reserve", "o1:release")},
		{"release sold", withLog(stock("A1", 3, 0, 2), "o1:commit"), func(p *Product) (bool, error) { return p.Release("o1", 2, StatusCommitted) }, true, nil,
			withLog(stock("A1", 5, 0, 0), "o1:commit", "o1:release")},
		{"release while committing, committed", withLog(stock("A1", 3, 0, 2), "o1:commit"), func(p *Product) (bool, error) { return p.Release("o1", 2, StatusCommitting) }, true, nil,
			withLog(stock("A1", 5, 0, 0), "o1:commit", "o1:release")},
		{"release while committing, not committed", withLog(stock("A1", 3, 2, 0), "o1:reserve"), func(p *Product) (bool, error) { return p.Release("o1", 2, StatusCommitting) }, true, nil,
			withLog(stock("A1", 5, 0, 0), "o1:reserve", "o1:release")},
		{"release twice", withLog(stock("A1", 5, 0, 0), "o1:release"), func(p *Product) (bool, error) { return p.Release("o1", 2, StatusReserved) }, false, nil,
			withLog(stock("A1", 5, 0, 0), "o1:release")},
		{"release corrupt: less sold than held", stock("A1", 3, 0, 1), func(p *Product) (bool, error) { return p.Release("o1", 2, StatusCommitted) }, true, ErrInvariant,
			Product{}},
		{"release from nowhere", stock("A1", 3, 2, 0), func(p *Product) (bool, error) { return p.Release("o1", 2, StatusRejected) }, false, ErrInvariant,
			Product{}},
		{"other order's steps do not count", withLog(stock("A1", 3, 2, 0), "o2:reserve"), func(p *Product) (bool, error) { return p.Reserve("o1", 1) }, true, nil,
			withLog(stock("A1", 2, 3, 0), "o2:reserve", "o1:reserve")},
	}
	for _, tt := range tests {
		p := tt.p
		changed, err := tt.step(&p)
		if !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
			t.Errorf("%s: error = %v; want %v", tt.name, err, tt.err)
			continue
		}
		if err != nil {
			continue
		}
		if changed != tt.changed || !reflect.DeepEqual(p, tt.want) {
			t.Errorf("%s: = %v %+v; want %v %+v", tt.name, changed, p, tt.changed, tt.want)
		}
	}
}

func TestProductLogIsBounded(t *testing.T) {
	p := stock("A1", MaxLog+10, 0, 0)
	for i := range MaxLog + 10 {
		if _, err := p.Reserve(fmt.Sprintf("o%d", i), 1); err != nil {
			t.Fatal(err)
		}
	}
	if len(p.Log) != MaxLog || p.Log[0] != "o10:reserve" || p.Log[MaxLog-1] != fmt.Sprintf("o%d:reserve", MaxLog+9) {
		t.Errorf("log has %d entries from %s; want the newest %d", len(p.Log), p.Log[0], MaxLog)
	}
}
