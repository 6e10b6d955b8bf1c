package inventory

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func stock(sku string, available, reserved, sold int64) Product {
	return Product{SKU: sku, Name: sku, PriceCents: 100, Available: available, Reserved: reserved, Sold: sold,
		Received: available + reserved + sold}
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
		{StatusReserving, StatusReserved}: true, {StatusReserving, StatusRejecting}: true, {StatusReserving, StatusRejected}: true,
		{StatusRejecting, StatusRejected}:  true,
		{StatusReserved, StatusCommitting}: true, {StatusReserved, StatusReleasing}: true,
		{StatusCommitting, StatusCommitted}: true, {StatusCommitting, StatusReleasing}: true,
		{StatusCommitted, StatusReleasing}: true,
		{StatusReleasing, StatusReleased}:  true,
	}
	for _, from := range all {
		for _, to := range all {
			r := Reservation{OrderID: "o1", Status: from, Lines: []Line{{"A1", 1}}}
			// The move's step is recorded on every line.
			if step, ok := map[Status]Step{StatusReserved: StepReserve, StatusCommitted: StepCommit, StatusReleased: StepRelease}[to]; ok {
				r.Applied = map[string]Step{"A1": step}
			}
			got, err := r.To(to)
			if ok := allowed[[2]Status{from, to}]; (err == nil) != ok || (err != nil && !errors.Is(err, ErrInvariant)) {
				t.Errorf("Reservation{%s}.To(%s) error = %v; want allowed=%v", from, to, err, ok)
				continue
			}
			if err != nil {
				continue
			}
			if got.Status != to || !reflect.DeepEqual(got.Lines, r.Lines) || !reflect.DeepEqual(got.Applied, r.Applied) {
				t.Errorf("Reservation{%s}.To(%s) = %+v; want status %s, same lines and steps", from, to, got, to)
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
	if err != nil || got.Status != StatusRejected || got.Outcome != OutcomeRejected || len(got.Rejections) != 1 {
		t.Errorf("Reject(nothing reserved) = %+v, %v; want rejected with one reason", got, err)
	}
	r.Applied = map[string]Step{"A1": StepReserve}
	got, err = r.Reject([]Rejection{{"B1", ReasonOutOfStock}})
	if err != nil || got.Status != StatusRejecting || got.Outcome != OutcomeNone || len(got.Rejections) != 1 {
		t.Errorf("Reject(A1 reserved) = %+v, %v; want rejecting with one reason, no outcome yet", got, err)
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

// A move is made only once its step is recorded on every line.
func TestReservationToNeedsItsLinesRecorded(t *testing.T) {
	lines := []Line{{"A1", 1}, {"B1", 2}}
	tests := []struct {
		from, to Status
		applied  map[string]Step
	}{
		{StatusReserving, StatusReserved, map[string]Step{"A1": StepReserve}},
		{StatusCommitting, StatusCommitted, map[string]Step{"A1": StepCommit, "B1": StepReserve}},
		{StatusReleasing, StatusReleased, map[string]Step{"A1": StepRelease, "B1": StepCommit}},
		{StatusRejecting, StatusRejected, map[string]Step{"A1": StepUnreserve, "B1": StepReserve}},
	}
	for _, tt := range tests {
		r := Reservation{OrderID: "o1", Status: tt.from, Lines: lines, Applied: tt.applied}
		if _, err := r.To(tt.to); !errors.Is(err, ErrInvariant) {
			t.Errorf("Reservation{%s, %v}.To(%s) = %v; want ErrInvariant", tt.from, tt.applied, tt.to, err)
		}
	}
	r := Reservation{OrderID: "o1", Status: StatusRejecting, Lines: lines, Applied: map[string]Step{"A1": StepUnreserve}}
	if _, err := r.To(StatusRejected); err != nil {
		t.Errorf("rejected with a line never reserved and one given back: %v", err)
	}
}

func TestPlanStep(t *testing.T) {
	all := []Step{StepNone, StepReserve, StepCommit, StepUnreserve, StepRelease}
	want := map[[2]Step]plan{
		{StepNone, StepReserve}: planApply, {StepNone, StepUnreserve}: planPast,
		{StepReserve, StepReserve}: planDone, {StepReserve, StepCommit}: planApply, {StepReserve, StepUnreserve}: planApply, {StepReserve, StepRelease}: planApply,
		{StepCommit, StepReserve}: planPast, {StepCommit, StepCommit}: planDone, {StepCommit, StepRelease}: planApply,
		{StepUnreserve, StepReserve}: planPast, {StepUnreserve, StepCommit}: planPast, {StepUnreserve, StepUnreserve}: planDone, {StepUnreserve, StepRelease}: planPast,
		{StepRelease, StepReserve}: planPast, {StepRelease, StepCommit}: planPast, {StepRelease, StepUnreserve}: planPast, {StepRelease, StepRelease}: planDone,
	}
	for _, cur := range all {
		for _, s := range all[1:] {
			got, err := planStep(cur, s)
			w, ok := want[[2]Step{cur, s}]
			if !ok {
				if !errors.Is(err, ErrInvariant) {
					t.Errorf("planStep(%q, %q) = %v, %v; want ErrInvariant", cur, s, got, err)
				}
				continue
			}
			if err != nil || got != w {
				t.Errorf("planStep(%q, %q) = %v, %v; want %v", cur, s, got, err, w)
			}
		}
	}
}

func TestApplyStep(t *testing.T) {
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	marked := func(p Product, order string, s Step) Product {
		p.Marks = map[string]Mark{order: {Step: s, At: at}}
		return p
	}
	tests := []struct {
		name   string
		p      Product
		cur, s Step
		err    error
		want   Product
	}{
		{"reserve", stock("A1", 5, 0, 0), StepNone, StepReserve, nil, marked(stock("A1", 3, 2, 0), "o1", StepReserve)},
		{"reserve all", stock("A1", 2, 0, 0), StepNone, StepReserve, nil, marked(stock("A1", 0, 2, 0), "o1", StepReserve)},
		{"reserve short", stock("A1", 1, 4, 0), StepNone, StepReserve, ErrOutOfStock, Product{}},
		{"unreserve", stock("A1", 3, 2, 0), StepReserve, StepUnreserve, nil, marked(stock("A1", 5, 0, 0), "o1", StepUnreserve)},
		{"commit", stock("A1", 3, 2, 0), StepReserve, StepCommit, nil, marked(stock("A1", 3, 0, 2), "o1", StepCommit)},
		{"release reserved", stock("A1", 3, 2, 0), StepReserve, StepRelease, nil, marked(stock("A1", 5, 0, 0), "o1", StepRelease)},
		{"release sold", stock("A1", 3, 0, 2), StepCommit, StepRelease, nil, marked(stock("A1", 5, 0, 0), "o1", StepRelease)},
		{"a mark replaces the order's last one", marked(stock("A1", 3, 2, 0), "o1", StepReserve), StepReserve, StepCommit, nil,
			marked(stock("A1", 3, 0, 2), "o1", StepCommit)},
		{"release corrupt: less sold than held", stock("A1", 3, 0, 1), StepCommit, StepRelease, ErrInvariant, Product{}},
		{"commit what was never reserved", stock("A1", 3, 2, 0), StepNone, StepCommit, ErrInvariant, Product{}},
	}
	for _, tt := range tests {
		p := tt.p
		err := p.applyStep("o1", tt.cur, tt.s, 2, at)
		if !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
			t.Errorf("%s: error = %v; want %v", tt.name, err, tt.err)
			continue
		}
		if err == nil && !reflect.DeepEqual(p, tt.want) {
			t.Errorf("%s: = %+v; want %+v", tt.name, p, tt.want)
		}
	}
}

func TestStepOfAndUnmark(t *testing.T) {
	p := stock("A1", 3, 2, 0)
	if got := p.StepOf("o1", StepReserve); got != StepReserve {
		t.Errorf("StepOf(no mark, recorded reserve) = %q; want reserve", got)
	}
	p.Marks = map[string]Mark{"o1": {Step: StepCommit}, "o2": {Step: StepReserve}}
	if got := p.StepOf("o1", StepReserve); got != StepCommit {
		t.Errorf("StepOf(marked commit, recorded reserve) = %q; want the mark", got)
	}
	if p.unmark("o1", StepReserve) {
		t.Error("unmark(o1, reserve) removed a commit mark")
	}
	if !p.unmark("o1", StepCommit) || p.unmark("o1", StepCommit) {
		t.Error("unmark(o1, commit) did not remove the mark exactly once")
	}
	if !p.unmark("o2", StepReserve) || p.Marks != nil {
		t.Errorf("marks after removing every one = %v; want none", p.Marks)
	}
}
