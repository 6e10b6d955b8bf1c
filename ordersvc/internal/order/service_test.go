package order

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

// fakeStore keeps orders in memory, with the semantics of orderstore.
type fakeStore struct {
	mu      sync.Mutex
	orders  map[string]Order
	claims  map[string][2]string
	pending []string
	outbox  []any // events committed with writes
}

func newFakeStore() *fakeStore {
	return &fakeStore{orders: map[string]Order{}, claims: map[string][2]string{}}
}

func (f *fakeStore) Get(_ context.Context, id string) (Order, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	o, ok := f.orders[id]
	if !ok {
		return Order{}, ErrNotFound
	}
	return o, nil
}

func (f *fakeStore) Create(_ context.Context, o Order, event any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.orders[o.ID]; ok {
		return ErrConflict
	}
	f.orders[o.ID] = o
	f.outbox = append(f.outbox, event)
	return nil
}

func (f *fakeStore) Update(_ context.Context, id string, fn func(*Order) (any, error)) (Order, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	o, ok := f.orders[id]
	if !ok {
		return Order{}, ErrNotFound
	}
	event, err := fn(&o)
	if errors.Is(err, ErrUnchanged) {
		return f.orders[id], nil
	}
	if err != nil {
		return Order{}, err
	}
	f.orders[id] = o
	if event != nil {
		f.outbox = append(f.outbox, event)
	}
	return o, nil
}

func (f *fakeStore) ClaimKey(_ context.Context, userID, key, orderID, hash string) (string, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := userID + "/" + key
	if c, ok := f.claims[k]; ok {
		return c[0], c[1], nil
	}
	f.claims[k] = [2]string{orderID, hash}
	return orderID, hash, nil
}

func (f *fakeStore) Index(_ context.Context, o Order) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !slices.Contains(f.pending, o.ID) {
		f.pending = append(f.pending, o.ID)
	}
	return nil
}

func (f *fakeStore) List(context.Context, string, string, int) ([]Order, string, error) {
	return nil, "", nil
}

func (f *fakeStore) Pending(context.Context) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.pending), nil
}

func (f *fakeStore) Unpend(_ context.Context, ids []string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pending = slices.DeleteFunc(f.pending, func(id string) bool { return slices.Contains(ids, id) })
	return nil
}

type fakeInventory map[string]int64

func (f fakeInventory) Prices(_ context.Context, skus []string) (map[string]int64, []string, error) {
	prices := map[string]int64{}
	var missing []string
	for _, s := range skus {
		if p, ok := f[s]; ok {
			prices[s] = p
		} else {
			missing = append(missing, s)
		}
	}
	return prices, missing, nil
}

type fakePayments struct {
	charges map[string]bool // order id -> approved
	refunds map[string]int
	calls   int
}

func newFakePayments() *fakePayments {
	return &fakePayments{charges: map[string]bool{}, refunds: map[string]int{}}
}

func (p *fakePayments) KnownToken(t string) bool { return t == "tok_visa" || t == "tok_decline" }

func (p *fakePayments) Charge(_ context.Context, id, token string, _ int64) (bool, error) {
	p.calls++
	if approved, ok := p.charges[id]; ok {
		return approved, nil
	}
	p.charges[id] = token == "tok_visa"
	return p.charges[id], nil
}

func (p *fakePayments) Refund(_ context.Context, id string) error {
	if p.charges[id] && p.refunds[id] == 0 {
		p.refunds[id]++
	}
	return nil
}

type fakePublisher struct{ events []any }

func (p *fakePublisher) Publish(_ context.Context, e any) error {
	p.events = append(p.events, e)
	return nil
}

type fixture struct {
	svc   *Service
	store *fakeStore
	pay   *fakePayments
	pub   *fakePublisher
	now   time.Time
}

func newFixture() *fixture {
	f := &fixture{store: newFakeStore(), pay: newFakePayments(), pub: &fakePublisher{}, now: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
	f.svc = NewService(f.store, fakeInventory{"BOOK": 1000, "MUG": 250}, f.pay, f.pub)
	f.svc.now = func() time.Time { return f.now }
	return f
}

func (f *fixture) place(t *testing.T, token, key string) Order {
	t.Helper()
	o, err := f.svc.Place(context.Background(), PlaceRequest{UserID: "u1", IdempotencyKey: key, CardToken: token,
		Lines: []Line{{"BOOK", 2}, {"MUG", 1}}})
	if err != nil {
		t.Fatalf("Place() = %v", err)
	}
	return o
}

func TestPlacePricesAndStartsTheSaga(t *testing.T) {
	f := newFixture()
	o := f.place(t, "tok_visa", "")
	if o.Status != StatusPending || o.TotalCents != 2*1000+250 || o.Items[0].UnitPriceCents != 1000 {
		t.Errorf("Place() = %+v; want pending, priced by the inventory, total 2250", o)
	}
	if len(f.store.outbox) != 1 {
		t.Fatalf("outbox = %v; want one order.created", f.store.outbox)
	}
	if ev, ok := f.store.outbox[0].(Created); !ok || ev.OrderID != o.ID || ev.Type != TypeOrderCreated {
		t.Errorf("outbox event = %+v; want order.created of %s", f.store.outbox[0], o.ID)
	}
}

func TestPlaceRejectsBadRequests(t *testing.T) {
	tests := []struct {
		name  string
		req   PlaceRequest
		field string
	}{
		{"no lines", PlaceRequest{CardToken: "tok_visa"}, "items"},
		{"zero quantity", PlaceRequest{CardToken: "tok_visa", Lines: []Line{{"BOOK", 0}}}, "items[0].quantity"},
		{"huge quantity", PlaceRequest{CardToken: "tok_visa", Lines: []Line{{"BOOK", 1_000_000_000}}}, "items[0].quantity"},
		{"duplicate sku", PlaceRequest{CardToken: "tok_visa", Lines: []Line{{"BOOK", 1}, {"BOOK", 1}}}, "items[1].sku"},
		{"bad sku", PlaceRequest{CardToken: "tok_visa", Lines: []Line{{"book", 1}}}, "items[0].sku"},
		{"unknown sku", PlaceRequest{CardToken: "tok_visa", Lines: []Line{{"NOPE", 1}}}, "items[0].sku"},
		{"unknown card", PlaceRequest{CardToken: "tok_x", Lines: []Line{{"BOOK", 1}}}, "payment.card_token"},
	}
	for _, tt := range tests {
		f := newFixture()
		_, err := f.svc.Place(context.Background(), tt.req)
		var invalid *InvalidError
		if !errors.As(err, &invalid) || !slices.ContainsFunc(invalid.Fields, func(e FieldError) bool { return e.Field == tt.field }) {
			t.Errorf("%s: Place() = %v; want an invalid %s", tt.name, err, tt.field)
		}
		if len(f.store.orders) != 0 || len(f.store.outbox) != 0 {
			t.Errorf("%s: a rejected request stored %d orders and %d events", tt.name, len(f.store.orders), len(f.store.outbox))
		}
	}
}

func TestPlaceIsIdempotentPerKey(t *testing.T) {
	f := newFixture()
	first := f.place(t, "tok_visa", "k1")
	again := f.place(t, "tok_visa", "k1")
	if again.ID != first.ID || len(f.store.orders) != 1 || len(f.store.outbox) != 1 {
		t.Errorf("same key twice: ids %s, %s with %d orders, %d events; want one order", first.ID, again.ID, len(f.store.orders), len(f.store.outbox))
	}
	other := f.place(t, "tok_visa", "k2")
	if other.ID == first.ID {
		t.Error("another key returned the same order")
	}
	_, err := f.svc.Place(context.Background(), PlaceRequest{UserID: "u1", IdempotencyKey: "k1", CardToken: "tok_visa", Lines: []Line{{"MUG", 5}}})
	if !errors.Is(err, ErrKeyReused) {
		t.Errorf("same key, other request: Place() = %v; want ErrKeyReused", err)
	}
}

func TestSagaSteps(t *testing.T) {
	tests := []struct {
		name       string
		token      string
		before     func(f *fixture, id string)
		step       func(f *fixture, id string) error
		wantStatus Status
		wantReason string
		wantEvent  string
		refunded   bool
	}{
		{name: "reserved, card approved", token: "tok_visa",
			step:       func(f *fixture, id string) error { return f.svc.OnReserved(context.Background(), id) },
			wantStatus: StatusConfirmed, wantEvent: TypeOrderConfirmed},
		{name: "reserved, card declined", token: "tok_decline",
			step:       func(f *fixture, id string) error { return f.svc.OnReserved(context.Background(), id) },
			wantStatus: StatusCancelled, wantReason: ReasonPaymentDeclined, wantEvent: TypeOrderCancelled},
		{name: "rejected", token: "tok_visa",
			step:       func(f *fixture, id string) error { return f.svc.OnRejected(context.Background(), id, ReasonOutOfStock) },
			wantStatus: StatusRejected, wantReason: ReasonOutOfStock},
		{name: "reserved after the customer cancelled", token: "tok_visa",
			before: func(f *fixture, id string) {
				if _, err := f.svc.Cancel(context.Background(), id, "u1", false); err != nil {
					panic(err)
				}
			},
			step:       func(f *fixture, id string) error { return f.svc.OnReserved(context.Background(), id) },
			wantStatus: StatusCancelled, wantReason: ReasonCustomer, wantEvent: TypeOrderCancelled},
		{name: "reserved delivered twice", token: "tok_visa",
			before: func(f *fixture, id string) {
				if err := f.svc.OnReserved(context.Background(), id); err != nil {
					panic(err)
				}
			},
			step:       func(f *fixture, id string) error { return f.svc.OnReserved(context.Background(), id) },
			wantStatus: StatusConfirmed, wantEvent: TypeOrderConfirmed},
		{name: "rejected after confirmed changes nothing", token: "tok_visa",
			before: func(f *fixture, id string) {
				if err := f.svc.OnReserved(context.Background(), id); err != nil {
					panic(err)
				}
			},
			step:       func(f *fixture, id string) error { return f.svc.OnRejected(context.Background(), id, ReasonOutOfStock) },
			wantStatus: StatusConfirmed, wantEvent: TypeOrderConfirmed},
	}
	for _, tt := range tests {
		f := newFixture()
		o := f.place(t, tt.token, "")
		if tt.before != nil {
			tt.before(f, o.ID)
		}
		if err := tt.step(f, o.ID); err != nil {
			t.Errorf("%s: step = %v", tt.name, err)
			continue
		}
		got := f.store.orders[o.ID]
		if got.Status != tt.wantStatus || got.StatusReason != tt.wantReason {
			t.Errorf("%s: order is %s (%s); want %s (%s)", tt.name, got.Status, got.StatusReason, tt.wantStatus, tt.wantReason)
		}
		if tt.wantEvent != "" {
			if n := len(f.pub.events); n == 0 || eventType(f.pub.events[n-1]) != tt.wantEvent {
				t.Errorf("%s: published %v; want %s last", tt.name, f.pub.events, tt.wantEvent)
			}
		}
		if len(f.pay.charges) > 1 {
			t.Errorf("%s: %d charges; want at most one per order", tt.name, len(f.pay.charges))
		}
	}
}

func eventType(e any) string {
	switch e := e.(type) {
	case Confirmed:
		return e.Type
	case Cancelled:
		return e.Type
	case Created:
		return e.Type
	}
	return ""
}

func TestCancel(t *testing.T) {
	f := newFixture()
	o := f.place(t, "tok_visa", "")
	if _, err := f.svc.Cancel(context.Background(), o.ID, "someone-else", false); !errors.Is(err, ErrNotFound) {
		t.Errorf("Cancel(another user's order) = %v; want ErrNotFound", err)
	}
	if err := f.svc.OnReserved(context.Background(), o.ID); err != nil {
		t.Fatal(err)
	}
	got, err := f.svc.Cancel(context.Background(), o.ID, "u1", false)
	if err != nil || got.Status != StatusCancelled {
		t.Fatalf("Cancel(confirmed) = %+v, %v; want cancelled", got, err)
	}
	if ev, ok := f.store.outbox[len(f.store.outbox)-1].(Cancelled); !ok || ev.OrderID != o.ID {
		t.Errorf("outbox = %v; want order.cancelled last", f.store.outbox)
	}
	if err := f.svc.OnCancelled(context.Background(), o.ID); err != nil || f.pay.refunds[o.ID] != 1 {
		t.Errorf("OnCancelled() = %v with %d refunds; want one refund", err, f.pay.refunds[o.ID])
	}
	if err := f.svc.OnCancelled(context.Background(), o.ID); err != nil || f.pay.refunds[o.ID] != 1 {
		t.Errorf("OnCancelled() twice: %d refunds; want still one", f.pay.refunds[o.ID])
	}
	if _, err := f.svc.Cancel(context.Background(), o.ID, "u1", false); !errors.Is(err, ErrNotCancellable) {
		t.Errorf("Cancel(cancelled) = %v; want ErrNotCancellable", err)
	}
}

func TestSweepCancelsTimedOutOrders(t *testing.T) {
	f := newFixture()
	old := f.place(t, "tok_visa", "")
	f.now = f.now.Add(time.Minute)
	fresh := f.place(t, "tok_visa", "")
	done := f.place(t, "tok_visa", "")
	if err := f.svc.OnRejected(context.Background(), done.ID, ReasonOutOfStock); err != nil {
		t.Fatal(err)
	}
	n, err := f.svc.Sweep(context.Background(), 30*time.Second)
	if err != nil || n != 1 {
		t.Fatalf("Sweep() = %d, %v; want 1 cancelled", n, err)
	}
	if got := f.store.orders[old.ID]; got.Status != StatusCancelled || got.StatusReason != ReasonTimeout {
		t.Errorf("old order is %s (%s); want cancelled by timeout", got.Status, got.StatusReason)
	}
	if got := f.store.orders[fresh.ID]; got.Status != StatusPending {
		t.Errorf("fresh order is %s; want still pending", got.Status)
	}
	if !slices.Equal(f.store.pending, []string{fresh.ID}) {
		t.Errorf("pending index = %v; want only the fresh order", f.store.pending)
	}
}

func TestNewIDSortsByTime(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a, b := NewID(t0), NewID(t0.Add(time.Millisecond))
	if !(a < b) {
		t.Errorf("NewID: %s !< %s", a, b)
	}
	if got, ok := idTime(a); !ok || !got.Equal(t0) {
		t.Errorf("idTime(%s) = %v, %v; want %v", a, got, ok, t0)
	}
}
