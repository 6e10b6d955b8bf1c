package order_test

import (
	"context"
	"errors"
	"shop/ordersvc/internal/order"
	"shop/ordersvc/internal/order/ordertest"
	"slices"
	"testing"
	"time"
)

type fixture struct {
	svc   *order.Service
	store *ordertest.Store
	pay   *ordertest.Payments
	pub   *ordertest.Publisher
	now   time.Time
}

func newFixture() *fixture {
	f := &fixture{store: ordertest.NewStore(), pay: ordertest.NewPayments(), pub: &ordertest.Publisher{}, now: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
	f.svc = order.NewService(f.store, ordertest.Inventory{"BOOK": 1000, "MUG": 250}, f.pay, f.pub, func() time.Time { return f.now })
	return f
}

func (f *fixture) place(t *testing.T, token, key string) order.Order {
	t.Helper()
	o, err := f.svc.Place(context.Background(), order.PlaceRequest{UserID: "u1", IdempotencyKey: key, CardToken: token,
		Lines: []order.Line{{"BOOK", 2}, {"MUG", 1}}})
	if err != nil {
		t.Fatalf("Place() = %v", err)
	}
	return o
}

func TestPlacePricesAndStartsTheSaga(t *testing.T) {
	f := newFixture()
	o := f.place(t, "tok_visa", "")
	if o.Status != order.StatusPending || o.TotalCents != 2*1000+250 || o.Items[0].UnitPriceCents != 1000 {
		t.Errorf("Place() = %+v; want pending, priced by the inventory, total 2250", o)
	}
	if len(f.store.Outbox) != 1 {
		t.Fatalf("outbox = %v; want one order.created", f.store.Outbox)
	}
	if ev, ok := f.store.Outbox[0].(order.Created); !ok || ev.OrderID != o.ID || ev.Type != order.TypeOrderCreated {
		t.Errorf("outbox event = %+v; want order.created of %s", f.store.Outbox[0], o.ID)
	}
}

func TestPlaceRejectsBadRequests(t *testing.T) {
	tests := []struct {
		name  string
		req   order.PlaceRequest
		field string
	}{
		{"no lines", order.PlaceRequest{CardToken: "tok_visa"}, "items"},
		{"zero quantity", order.PlaceRequest{CardToken: "tok_visa", Lines: []order.Line{{"BOOK", 0}}}, "items[0].quantity"},
		{"huge quantity", order.PlaceRequest{CardToken: "tok_visa", Lines: []order.Line{{"BOOK", 1_000_000_000}}}, "items[0].quantity"},
		{"duplicate sku", order.PlaceRequest{CardToken: "tok_visa", Lines: []order.Line{{"BOOK", 1}, {"BOOK", 1}}}, "items[1].sku"},
		{"bad sku", order.PlaceRequest{CardToken: "tok_visa", Lines: []order.Line{{"book", 1}}}, "items[0].sku"},
		{"unknown sku", order.PlaceRequest{CardToken: "tok_visa", Lines: []order.Line{{"NOPE", 1}}}, "items[0].sku"},
		{"unknown card", order.PlaceRequest{CardToken: "tok_x", Lines: []order.Line{{"BOOK", 1}}}, "payment.card_token"},
	}
	for _, tt := range tests {
		f := newFixture()
		_, err := f.svc.Place(context.Background(), tt.req)
		var invalid *order.InvalidError
		if !errors.As(err, &invalid) || !slices.ContainsFunc(invalid.Fields, func(e order.FieldError) bool { return e.Field == tt.field }) {
			t.Errorf("%s: Place() = %v; want an invalid %s", tt.name, err, tt.field)
		}
		if len(f.store.Orders) != 0 || len(f.store.Outbox) != 0 {
			t.Errorf("%s: a rejected request stored %d orders and %d events", tt.name, len(f.store.Orders), len(f.store.Outbox))
		}
	}
}

func TestPlaceIsIdempotentPerKey(t *testing.T) {
	f := newFixture()
	first := f.place(t, "tok_visa", "k1")
	again := f.place(t, "tok_visa", "k1")
	if again.ID != first.ID || len(f.store.Orders) != 1 || len(f.store.Outbox) != 1 {
		t.Errorf("same key twice: ids %s, %s with %d orders, %d events; want one order", first.ID, again.ID, len(f.store.Orders), len(f.store.Outbox))
	}
	other := f.place(t, "tok_visa", "k2")
	if other.ID == first.ID {
		t.Error("another key returned the same order")
	}
	_, err := f.svc.Place(context.Background(), order.PlaceRequest{UserID: "u1", IdempotencyKey: "k1", CardToken: "tok_visa", Lines: []order.Line{{"MUG", 5}}})
	if !errors.Is(err, order.ErrKeyReused) {
		t.Errorf("same key, other request: Place() = %v; want order.ErrKeyReused", err)
	}
}

func TestSagaSteps(t *testing.T) {
	tests := []struct {
		name       string
		token      string
		before     func(f *fixture, id string)
		step       func(f *fixture, id string) error
		wantStatus order.Status
		wantReason string
		wantEvent  string
		refunded   bool
	}{
		{name: "reserved, card approved", token: "tok_visa",
			step:       func(f *fixture, id string) error { return f.svc.OnReserved(context.Background(), id) },
			wantStatus: order.StatusConfirmed, wantEvent: order.TypeOrderConfirmed},
		{name: "reserved, card declined", token: "tok_decline",
			step:       func(f *fixture, id string) error { return f.svc.OnReserved(context.Background(), id) },
			wantStatus: order.StatusCancelled, wantReason: order.ReasonPaymentDeclined, wantEvent: order.TypeOrderCancelled},
		{name: "rejected", token: "tok_visa",
			step: func(f *fixture, id string) error {
				return f.svc.OnRejected(context.Background(), id, order.ReasonOutOfStock)
			},
			wantStatus: order.StatusRejected, wantReason: order.ReasonOutOfStock},
		{name: "reserved after the customer cancelled", token: "tok_visa",
			before: func(f *fixture, id string) {
				if _, err := f.svc.Cancel(context.Background(), id, "u1", false); err != nil {
					panic(err)
				}
			},
			step:       func(f *fixture, id string) error { return f.svc.OnReserved(context.Background(), id) },
			wantStatus: order.StatusCancelled, wantReason: order.ReasonCustomer, wantEvent: order.TypeOrderCancelled},
		{name: "reserved delivered twice", token: "tok_visa",
			before: func(f *fixture, id string) {
				if err := f.svc.OnReserved(context.Background(), id); err != nil {
					panic(err)
				}
			},
			step:       func(f *fixture, id string) error { return f.svc.OnReserved(context.Background(), id) },
			wantStatus: order.StatusConfirmed, wantEvent: order.TypeOrderConfirmed},
		{name: "rejected after confirmed changes nothing", token: "tok_visa",
			before: func(f *fixture, id string) {
				if err := f.svc.OnReserved(context.Background(), id); err != nil {
					panic(err)
				}
			},
			step: func(f *fixture, id string) error {
				return f.svc.OnRejected(context.Background(), id, order.ReasonOutOfStock)
			},
			wantStatus: order.StatusConfirmed, wantEvent: order.TypeOrderConfirmed},
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
		got := f.store.Orders[o.ID]
		if got.Status != tt.wantStatus || got.StatusReason != tt.wantReason {
			t.Errorf("%s: order is %s (%s); want %s (%s)", tt.name, got.Status, got.StatusReason, tt.wantStatus, tt.wantReason)
		}
		if tt.wantEvent != "" {
			if n := len(f.pub.Events); n == 0 || eventType(f.pub.Events[n-1]) != tt.wantEvent {
				t.Errorf("%s: published %v; want %s last", tt.name, f.pub.Events, tt.wantEvent)
			}
		}
		if len(f.pay.Charges) > 1 {
			t.Errorf("%s: %d charges; want at most one per order", tt.name, len(f.pay.Charges))
		}
	}
}

func eventType(e any) string {
	switch e := e.(type) {
	case order.Confirmed:
		return e.Type
	case order.Cancelled:
		return e.Type
	case order.Created:
		return e.Type
	}
	return ""
}

func TestCancel(t *testing.T) {
	f := newFixture()
	o := f.place(t, "tok_visa", "")
	if _, err := f.svc.Cancel(context.Background(), o.ID, "someone-else", false); !errors.Is(err, order.ErrNotFound) {
		t.Errorf("Cancel(another user's order) = %v; want order.ErrNotFound", err)
	}
	if err := f.svc.OnReserved(context.Background(), o.ID); err != nil {
		t.Fatal(err)
	}
	got, err := f.svc.Cancel(context.Background(), o.ID, "u1", false)
	if err != nil || got.Status != order.StatusCancelled {
		t.Fatalf("Cancel(confirmed) = %+v, %v; want cancelled", got, err)
	}
	if ev, ok := f.store.Outbox[len(f.store.Outbox)-1].(order.Cancelled); !ok || ev.OrderID != o.ID {
		t.Errorf("outbox = %v; want order.cancelled last", f.store.Outbox)
	}
	if err := f.svc.OnCancelled(context.Background(), o.ID); err != nil || f.pay.Refunds[o.ID] != 1 {
		t.Errorf("OnCancelled() = %v with %d refunds; want one refund", err, f.pay.Refunds[o.ID])
	}
	if err := f.svc.OnCancelled(context.Background(), o.ID); err != nil || f.pay.Refunds[o.ID] != 1 {
		t.Errorf("OnCancelled() twice: %d refunds; want still one", f.pay.Refunds[o.ID])
	}
	if _, err := f.svc.Cancel(context.Background(), o.ID, "u1", false); !errors.Is(err, order.ErrNotCancellable) {
		t.Errorf("Cancel(cancelled) = %v; want order.ErrNotCancellable", err)
	}
}

func TestSweepCancelsTimedOutOrders(t *testing.T) {
	f := newFixture()
	old := f.place(t, "tok_visa", "")
	f.now = f.now.Add(time.Minute)
	fresh := f.place(t, "tok_visa", "")
	done := f.place(t, "tok_visa", "")
	if err := f.svc.OnRejected(context.Background(), done.ID, order.ReasonOutOfStock); err != nil {
		t.Fatal(err)
	}
	n, err := f.svc.Sweep(context.Background(), 30*time.Second)
	if err != nil || n != 1 {
		t.Fatalf("Sweep() = %d, %v; want 1 cancelled", n, err)
	}
	if got := f.store.Orders[old.ID]; got.Status != order.StatusCancelled || got.StatusReason != order.ReasonTimeout {
		t.Errorf("old order is %s (%s); want cancelled by timeout", got.Status, got.StatusReason)
	}
	if got := f.store.Orders[fresh.ID]; got.Status != order.StatusPending {
		t.Errorf("fresh order is %s; want still pending", got.Status)
	}
	if !slices.Equal(f.store.PendingIDs, []string{fresh.ID}) {
		t.Errorf("pending index = %v; want only the fresh order", f.store.PendingIDs)
	}
}

func TestNewIDSortsByTime(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a, b := order.NewID(t0), order.NewID(t0.Add(time.Millisecond))
	if !(a < b) {
		t.Errorf("order.NewID: %s !< %s", a, b)
	}
	for _, id := range []string{a, b} {
		if !order.ValidID(id) {
			t.Errorf("ValidID(%q) = false; want true", id)
		}
	}
	for _, id := range []string{"", "nope", "o01a21c", a + "x", "x" + a[1:]} {
		if order.ValidID(id) {
			t.Errorf("ValidID(%q) = true; want false", id)
		}
	}
	if got, ok := order.IDTime(a); !ok || !got.Equal(t0) {
		t.Errorf("order.IDTime(%s) = %v, %v; want %v", a, got, ok, t0)
	}
}

func TestOnCancelledRefundsOnlyCancelledOrders(t *testing.T) {
	f := newFixture()
	o := f.place(t, "tok_visa", "")
	if err := f.svc.OnReserved(context.Background(), o.ID); err != nil {
		t.Fatal(err)
	}
	// A stray order.cancelled for a confirmed order refunds nothing.
	if err := f.svc.OnCancelled(context.Background(), o.ID); err != nil || f.pay.Refunds[o.ID] != 0 {
		t.Errorf("OnCancelled(confirmed) = %v with %d refunds; want none", err, f.pay.Refunds[o.ID])
	}
}

// A step that saved its outcome but failed to publish it (a crash, the
// broker down) is redelivered: the same outcome is published then, and the
// card is charged once.
func TestSavedButUnpublishedOutcomeIsPublishedOnRedelivery(t *testing.T) {
	for _, token := range []string{"tok_visa", "tok_decline"} {
		f := newFixture()
		o := f.place(t, token, "")
		f.pub.Fail = 1
		if err := f.svc.OnReserved(context.Background(), o.ID); err == nil {
			t.Fatalf("%s: OnReserved() with the broker down = nil; want an error, so that the event is redelivered", token)
		}
		if len(f.pub.Events) != 0 {
			t.Fatalf("%s: published %v while the broker was down", token, f.pub.Events)
		}
		if err := f.svc.OnReserved(context.Background(), o.ID); err != nil {
			t.Fatalf("%s: redelivered OnReserved() = %v", token, err)
		}
		want := order.TypeOrderConfirmed
		if token == "tok_decline" {
			want = order.TypeOrderCancelled
		}
		if len(f.pub.Events) != 1 || eventType(f.pub.Events[0]) != want {
			t.Errorf("%s: published %v after the redelivery; want one %s", token, f.pub.Events, want)
		}
		if len(f.pay.Charges) != 1 {
			t.Errorf("%s: %d charges; want 1", token, len(f.pay.Charges))
		}
	}
}
