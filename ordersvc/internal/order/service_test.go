package order_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"shop/ordersvc/internal/order"
	"shop/ordersvc/internal/order/ordertest"
	"shop/platform/contract"
	"shop/platform/validation"
)

type fixture struct {
	svc *order.Service
	env *ordertest.Env
	pub *ordertest.Publisher
	mu  sync.Mutex
	now time.Time
}

func newFixture(opts ...order.Option) *fixture {
	f := &fixture{env: ordertest.NewEnv(), pub: &ordertest.Publisher{}, now: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
	opts = append([]order.Option{order.WithClock(f.clock)}, opts...)
	f.svc = order.NewService(f.env.Store, ordertest.Inventory{"BOOK": 1000, "MUG": 250}, f.env.Payments, f.pub, opts...)
	return f
}

func (f *fixture) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fixture) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
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

func (f *fixture) order(t *testing.T, id string) order.Order {
	t.Helper()
	o, err := f.env.Store.Get(context.Background(), id)
	if err != nil {
		t.Fatalf("Get(%s) = %v", id, err)
	}
	return o
}

// published lists the types of the events published for the order.
func (f *fixture) published(id string) []string {
	var out []string
	for _, p := range f.pub.Events() {
		if p.Key == id && eventOrder(p.Event) == id {
			out = append(out, eventType(p.Event))
		}
	}
	return out
}

func eventType(e any) string {
	switch e := e.(type) {
	case contract.OrderConfirmed:
		return e.Type
	case contract.OrderCancelled:
		return e.Type + "/" + e.Reason
	case contract.OrderCreated:
		return e.Type
	}
	return ""
}

func eventOrder(e any) string {
	switch e := e.(type) {
	case contract.OrderConfirmed:
		return e.OrderID
	case contract.OrderCancelled:
		return e.OrderID
	case contract.OrderCreated:
		return e.OrderID
	}
	return ""
}

func (f *fixture) sweep(t *testing.T, timeout time.Duration) order.SweepResult {
	t.Helper()
	res, err := f.svc.Sweep(context.Background(), timeout)
	if err != nil {
		t.Fatalf("Sweep() = %v", err)
	}
	return res
}

func watched(t *testing.T, f *fixture) []string {
	t.Helper()
	w, err := f.env.Store.Watched(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range w {
		ids = append(ids, e.OrderID)
	}
	return ids
}

func TestPlacePublishesCreatedAndClearsIt(t *testing.T) {
	f := newFixture()
	o := f.place(t, "tok_visa", "")
	if o.Status != order.StatusPending || o.TotalCents != 2*1000+250 || o.Items[0].UnitPriceCents != 1000 {
		t.Errorf("Place() = %+v; want pending, priced by the inventory, total 2250", o)
	}
	if got := f.published(o.ID); !slices.Equal(got, []string{order.TypeOrderCreated}) {
		t.Errorf("published %v; want one order.created keyed by the order id", got)
	}
	if got := f.order(t, o.ID); len(got.Outbox) != 0 {
		t.Errorf("stored outbox %+v after the publish; want empty", got.Outbox)
	}
	if !slices.Contains(watched(t, f), o.ID) {
		t.Errorf("a new order is not in the sweep's index")
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
		{"key with ||", order.PlaceRequest{IdempotencyKey: "a||b", CardToken: "tok_visa", Lines: []order.Line{{"BOOK", 1}}}, "Idempotency-Key"},
		{"key with a newline", order.PlaceRequest{IdempotencyKey: "a\nb", CardToken: "tok_visa", Lines: []order.Line{{"BOOK", 1}}}, "Idempotency-Key"},
		{"long key", order.PlaceRequest{IdempotencyKey: strings.Repeat("k", 129), CardToken: "tok_visa", Lines: []order.Line{{"BOOK", 1}}}, "Idempotency-Key"},
	}
	for _, tt := range tests {
		f := newFixture()
		tt.req.UserID = "u1"
		_, err := f.svc.Place(context.Background(), tt.req)
		var invalid validation.Errors
		if !errors.As(err, &invalid) || !slices.ContainsFunc(invalid, func(e validation.FieldError) bool { return e.Field == tt.field }) {
			t.Errorf("%s: Place() = %v; want an invalid %s", tt.name, err, tt.field)
		}
		if n := len(f.env.State.Keys()); n != 0 || len(f.pub.Events()) != 0 {
			t.Errorf("%s: a rejected request wrote %d keys and published %d events", tt.name, n, len(f.pub.Events()))
		}
	}
}

func TestPlaceIsIdempotentPerKey(t *testing.T) {
	f := newFixture()
	first := f.place(t, "tok_visa", "k1")
	again := f.place(t, "tok_visa", "k1")
	if again.ID != first.ID || len(f.published(first.ID)) != 1 {
		t.Errorf("same key twice: ids %s, %s, published %v; want one order, one order.created", first.ID, again.ID, f.published(first.ID))
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

// A duplicate request that gives up waiting for a slow original creates
// the order under the claimed id; when the original's insert comes at
// last, it finds the order there and changes nothing, even after the saga
// moved it on.
func TestDuplicateKeyRacingASlowOriginalNeverResetsIt(t *testing.T) {
	f := newFixture()
	ctx := context.Background()
	req := order.PlaceRequest{UserID: "u1", IdempotencyKey: "slow", CardToken: "tok_visa", Lines: []order.Line{{"BOOK", 1}}}
	release := make(chan struct{})
	blocked := make(chan struct{})
	var once sync.Once
	f.env.State.BeforeWrite = func(key string) {
		if strings.HasPrefix(key, "order:") {
			first := false
			once.Do(func() { first = true })
			if first {
				close(blocked)
				<-release
			}
		}
	}
	type result struct {
		o   order.Order
		err error
	}
	original := make(chan result)
	go func() {
		o, err := f.svc.Place(ctx, req)
		original <- result{o, err}
	}()
	<-blocked
	dup, err := f.svc.Place(ctx, req)
	if err != nil {
		t.Fatalf("duplicate Place() = %v", err)
	}
	if err := f.svc.OnReserved(ctx, dup.ID); err != nil {
		t.Fatal(err)
	}
	close(release)
	orig := <-original
	if orig.err != nil || orig.o.ID != dup.ID {
		t.Fatalf("original Place() = %s, %v; want the same order %s", orig.o.ID, orig.err, dup.ID)
	}
	if got := f.order(t, dup.ID); got.Status != order.StatusConfirmed || len(got.Outbox) != 0 {
		t.Errorf("after the original's late insert the order is %s with outbox %v; want still confirmed", got.Status, got.Outbox)
	}
	if n := f.env.Ledger.Charges(dup.ID); n != 1 {
		t.Errorf("%d charges; want 1", n)
	}
}

func TestSagaSteps(t *testing.T) {
	tests := []struct {
		name       string
		token      string
		before     func(f *fixture, id string) error
		step       func(f *fixture, id string) error
		wantStatus order.Status
		wantReason string
		wantLast   string
		charges    int
		refunds    int
	}{
		{name: "reserved, card approved", token: "tok_visa",
			step:       func(f *fixture, id string) error { return f.svc.OnReserved(context.Background(), id) },
			wantStatus: order.StatusConfirmed, wantLast: order.TypeOrderConfirmed, charges: 1},
		{name: "reserved, card declined", token: "tok_decline",
			step:       func(f *fixture, id string) error { return f.svc.OnReserved(context.Background(), id) },
			wantStatus: order.StatusCancelled, wantReason: order.ReasonPaymentDeclined, wantLast: "order.cancelled/payment_declined"},
		{name: "rejected", token: "tok_visa",
			step: func(f *fixture, id string) error {
				return f.svc.OnRejected(context.Background(), id, order.ReasonOutOfStock)
			},
			wantStatus: order.StatusRejected, wantReason: order.ReasonOutOfStock, wantLast: order.TypeOrderCreated},
		{name: "reserved after the customer cancelled", token: "tok_visa",
			before: func(f *fixture, id string) error {
				_, err := f.svc.Cancel(context.Background(), id, "u1", false)
				return err
			},
			step:       func(f *fixture, id string) error { return f.svc.OnReserved(context.Background(), id) },
			wantStatus: order.StatusCancelled, wantReason: order.ReasonCustomer, wantLast: "order.cancelled/cancelled_by_customer"},
		{name: "reserved delivered twice", token: "tok_visa",
			before:     func(f *fixture, id string) error { return f.svc.OnReserved(context.Background(), id) },
			step:       func(f *fixture, id string) error { return f.svc.OnReserved(context.Background(), id) },
			wantStatus: order.StatusConfirmed, wantLast: order.TypeOrderConfirmed, charges: 1},
		{name: "rejected after confirmed changes nothing", token: "tok_visa",
			before: func(f *fixture, id string) error { return f.svc.OnReserved(context.Background(), id) },
			step: func(f *fixture, id string) error {
				return f.svc.OnRejected(context.Background(), id, order.ReasonOutOfStock)
			},
			wantStatus: order.StatusConfirmed, wantLast: order.TypeOrderConfirmed, charges: 1},
		{name: "customer cancels a confirmed order", token: "tok_visa",
			before: func(f *fixture, id string) error { return f.svc.OnReserved(context.Background(), id) },
			step: func(f *fixture, id string) error {
				if _, err := f.svc.Cancel(context.Background(), id, "u1", false); err != nil {
					return err
				}
				return f.svc.OnCancelled(context.Background(), id)
			},
			wantStatus: order.StatusCancelled, wantReason: order.ReasonCustomer, wantLast: "order.cancelled/cancelled_by_customer", charges: 1, refunds: 1},
	}
	for _, tt := range tests {
		f := newFixture()
		o := f.place(t, tt.token, "")
		if tt.before != nil {
			if err := tt.before(f, o.ID); err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
		}
		if err := tt.step(f, o.ID); err != nil {
			t.Errorf("%s: step = %v", tt.name, err)
			continue
		}
		got := f.order(t, o.ID)
		if got.Status != tt.wantStatus || got.StatusReason != tt.wantReason {
			t.Errorf("%s: order is %s (%s); want %s (%s)", tt.name, got.Status, got.StatusReason, tt.wantStatus, tt.wantReason)
		}
		if pub := f.published(o.ID); len(pub) == 0 || pub[len(pub)-1] != tt.wantLast {
			t.Errorf("%s: published %v; want %s last", tt.name, pub, tt.wantLast)
		}
		if c, r := f.env.Ledger.Charges(o.ID), f.env.Ledger.Refunds(o.ID); c != tt.charges || r != tt.refunds {
			t.Errorf("%s: %d charges, %d refunds; want %d, %d", tt.name, c, r, tt.charges, tt.refunds)
		}
	}
}

// Many deliveries of one inventory.reserved, some at once: one charge,
// and every delivery publishes the outcome.
func TestDuplicateReservationsChargeOnce(t *testing.T) {
	f := newFixture()
	o := f.place(t, "tok_visa", "")
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f.svc.OnReserved(context.Background(), o.ID); err != nil {
				t.Errorf("OnReserved() = %v", err)
			}
		}()
	}
	wg.Wait()
	if err := f.svc.OnReserved(context.Background(), o.ID); err != nil {
		t.Fatal(err)
	}
	if n := f.env.Ledger.Charges(o.ID); n != 1 {
		t.Errorf("%d charges for 9 deliveries; want 1", n)
	}
	confirmed := 0
	for _, e := range f.published(o.ID) {
		if e == order.TypeOrderConfirmed {
			confirmed++
		}
	}
	if confirmed != 9 {
		t.Errorf("order.confirmed published %d times for 9 deliveries; want 9", confirmed)
	}
}

// A step that saved its outcome but failed to publish it (a crash, the
// broker down) is redelivered: the same outcome is published then, and the
// card is charged once.
func TestSavedButUnpublishedOutcomeIsPublishedOnRedelivery(t *testing.T) {
	for _, tc := range []struct{ token, want string }{
		{"tok_visa", order.TypeOrderConfirmed}, {"tok_decline", "order.cancelled/payment_declined"},
	} {
		f := newFixture()
		o := f.place(t, tc.token, "")
		f.pub.FailNext(1)
		if err := f.svc.OnReserved(context.Background(), o.ID); err == nil {
			t.Fatalf("%s: OnReserved() with the broker down = nil; want an error, so that the event is redelivered", tc.token)
		}
		if err := f.svc.OnReserved(context.Background(), o.ID); err != nil {
			t.Fatalf("%s: redelivered OnReserved() = %v", tc.token, err)
		}
		if got := f.published(o.ID); !slices.Equal(got, []string{order.TypeOrderCreated, tc.want}) {
			t.Errorf("%s: published %v; want order.created, then one %s", tc.token, got, tc.want)
		}
		want := 0
		if tc.token == "tok_visa" {
			want = 1
		}
		if n := f.env.Ledger.Charges(o.ID); n != want {
			t.Errorf("%s: %d charges; want %d", tc.token, n, want)
		}
	}
}

// A crash between committing the order and publishing order.created
// leaves the event in the record: the sweep publishes it once it is older
// than RelayAfter, and clears it.
// With the broker unreachable, a publish hangs until its context ends: the
// request still answers within PublishWait, its order committed with the
// event left for the sweep.
func TestPlaceAnswersWhileTheBrokerHangs(t *testing.T) {
	f := newFixture()
	f.pub.HangNext(1)
	start := time.Now()
	o := f.place(t, "tok_visa", "")
	if took := time.Since(start); took > order.PublishWait+time.Second {
		t.Errorf("Place took %v with the broker hanging; want about PublishWait (%v)", took, order.PublishWait)
	}
	if got := f.order(t, o.ID); len(got.Outbox) != 1 || got.Outbox[0].Type != order.TypeOrderCreated {
		t.Fatalf("stored outbox %+v; want order.created left for the sweep", got.Outbox)
	}
	f.advance(order.RelayAfter)
	if res := f.sweep(t, time.Hour); res.Relayed != 1 {
		t.Errorf("sweep relayed %d; want the order.created", res.Relayed)
	}
}

func TestSweepRelaysAnEventLeftByACrash(t *testing.T) {
	var hooked []string
	var f *fixture
	f = newFixture(order.WithAfterCommit(func(typ string) {
		hooked = append(hooked, typ)
		// At the fault point the record is committed and nothing is out.
		if len(f.pub.Events()) != 0 {
			t.Errorf("published %v before the fault point", f.pub.Events())
		}
	}))
	f.pub.FailNext(1) // the process "dies" before the publish
	o := f.place(t, "tok_visa", "")
	if !slices.Equal(hooked, []string{order.TypeOrderCreated}) {
		t.Errorf("fault hook saw %v; want order.created", hooked)
	}
	if got := f.order(t, o.ID); len(got.Outbox) != 1 || got.Outbox[0].Type != order.TypeOrderCreated {
		t.Fatalf("stored outbox %+v; want the unpublished order.created", got.Outbox)
	}
	if res := f.sweep(t, time.Hour); res.Relayed != 0 || len(f.published(o.ID)) != 0 {
		t.Errorf("a sweep right away relayed %d; want none before RelayAfter", res.Relayed)
	}
	f.advance(order.RelayAfter)
	if res := f.sweep(t, time.Hour); res.Relayed != 1 {
		t.Errorf("sweep after RelayAfter relayed %d; want 1", res.Relayed)
	}
	if got := f.published(o.ID); !slices.Equal(got, []string{order.TypeOrderCreated}) {
		t.Errorf("published %v; want order.created", got)
	}
	if got := f.order(t, o.ID); len(got.Outbox) != 0 {
		t.Errorf("outbox %+v after the relay; want empty", got.Outbox)
	}
	f.advance(order.RelayAfter)
	f.sweep(t, time.Hour)
	if got := f.published(o.ID); len(got) != 1 {
		t.Errorf("a second sweep published again: %v", got)
	}
	// The saga goes on from the relayed event.
	if err := f.svc.OnReserved(context.Background(), o.ID); err != nil {
		t.Fatal(err)
	}
	f.sweep(t, time.Hour)
	if slices.Contains(watched(t, f), o.ID) {
		t.Error("a confirmed order with no event left is still in the sweep's index")
	}
}

// A customer cancels a confirmed order (no longer in the sweep's index) and
// the process dies before publishing: the order is watched again first, so
// the sweep finds the event.
func TestCancelOfAConfirmedOrderIsRelayed(t *testing.T) {
	f := newFixture()
	o := f.place(t, "tok_visa", "")
	if err := f.svc.OnReserved(context.Background(), o.ID); err != nil {
		t.Fatal(err)
	}
	f.sweep(t, time.Hour)
	if slices.Contains(watched(t, f), o.ID) {
		t.Fatal("a confirmed order is still watched")
	}
	f.pub.FailNext(1)
	if _, err := f.svc.Cancel(context.Background(), o.ID, "u1", false); err != nil {
		t.Fatalf("Cancel() = %v", err)
	}
	f.advance(order.RelayAfter)
	f.sweep(t, time.Hour)
	if got := f.published(o.ID); got[len(got)-1] != "order.cancelled/cancelled_by_customer" {
		t.Errorf("published %v; want the relayed order.cancelled last", got)
	}
}

// An event left in the record by a failed publish goes out before the
// next one of the same order, so that one order's events keep their order.
func TestEventsOfAnOrderKeepTheirOrder(t *testing.T) {
	f := newFixture()
	f.pub.FailNext(1)
	o := f.place(t, "tok_visa", "")
	if _, err := f.svc.Cancel(context.Background(), o.ID, "u1", false); err != nil {
		t.Fatal(err)
	}
	want := []string{order.TypeOrderCreated, "order.cancelled/cancelled_by_customer"}
	if got := f.published(o.ID); !slices.Equal(got, want) {
		t.Errorf("published %v; want %v", got, want)
	}
	if got := f.order(t, o.ID); len(got.Outbox) != 0 {
		t.Errorf("outbox %v; want empty", got.Outbox)
	}
}

// The sweep read the index, then a cancel watched the order again and
// stored its event: the sweep's removal, with the old mark, keeps it.
func TestUnwatchKeepsAnOrderWatchedAgain(t *testing.T) {
	f := newFixture()
	ctx := context.Background()
	if err := f.env.Store.Watch(ctx, "o1", f.now); err != nil {
		t.Fatal(err)
	}
	old, err := f.env.Store.Watched(ctx)
	if err != nil || len(old) != 1 {
		t.Fatalf("Watched() = %v, %v", old, err)
	}
	if err := f.env.Store.Watch(ctx, "o1", f.now); err != nil {
		t.Fatal(err)
	}
	if err := f.env.Store.Unwatch(ctx, old); err != nil {
		t.Fatal(err)
	}
	if got := watched(t, f); !slices.Equal(got, []string{"o1"}) {
		t.Errorf("after Unwatch with a stale mark: %v; want o1 kept", got)
	}
	now, _ := f.env.Store.Watched(ctx)
	if err := f.env.Store.Unwatch(ctx, now); err != nil {
		t.Fatal(err)
	}
	if got := watched(t, f); len(got) != 0 {
		t.Errorf("after Unwatch with the current mark: %v; want none", got)
	}
}

func TestSweepCancelsTimedOutOrders(t *testing.T) {
	f := newFixture()
	old := f.place(t, "tok_visa", "")
	f.advance(time.Minute)
	fresh := f.place(t, "tok_visa", "")
	done := f.place(t, "tok_visa", "")
	if err := f.svc.OnRejected(context.Background(), done.ID, order.ReasonOutOfStock); err != nil {
		t.Fatal(err)
	}
	res := f.sweep(t, 30*time.Second)
	if res.TimedOut != 1 {
		t.Fatalf("Sweep() = %+v; want 1 timed out", res)
	}
	if got := f.order(t, old.ID); got.Status != order.StatusCancelled || got.StatusReason != order.ReasonTimeout || len(got.Outbox) != 0 {
		t.Errorf("old order is %s (%s), outbox %v; want cancelled by timeout, event published", got.Status, got.StatusReason, got.Outbox)
	}
	if got := f.published(old.ID); got[len(got)-1] != "order.cancelled/saga_timeout" {
		t.Errorf("published %v; want order.cancelled/saga_timeout last", got)
	}
	if got := f.order(t, fresh.ID); got.Status != order.StatusPending {
		t.Errorf("fresh order is %s; want still pending", got.Status)
	}
	if got := watched(t, f); !slices.Equal(got, []string{fresh.ID}) && !slices.Equal(got, []string{old.ID, fresh.ID}) {
		t.Errorf("sweep's index = %v; want the fresh order (and the old one until the next sweep)", got)
	}
	f.sweep(t, 30*time.Second)
	if got := watched(t, f); !slices.Equal(got, []string{fresh.ID}) {
		t.Errorf("sweep's index = %v; want only the fresh order", got)
	}
}

// The race of the saga timeout and the confirm step, at each point where
// one can come between the other's read and write. Whatever the
// interleaving: a confirmed order was never announced cancelled, and a
// cancelled one is refunded and never announced confirmed.
func TestTimeoutAgainstConfirm(t *testing.T) {
	const timeout = time.Minute
	type interleaving struct {
		name string
		// key is the state key whose first write runs `between`; step is
		// what the test runs, and between what comes in front of that write.
		key           func(id string) string
		step, between func(f *fixture, id string) error
		want          order.Status
	}
	reserved := func(f *fixture, id string) error { return f.svc.OnReserved(context.Background(), id) }
	sweep := func(f *fixture, _ string) error { _, err := f.svc.Sweep(context.Background(), timeout); return err }
	orderKey := func(id string) string { return "order:" + id }
	paymentKey := func(id string) string { return "payment:" + id }
	for _, tt := range []interleaving{
		{"timeout commits while the card is charged", paymentKey, reserved, sweep, order.StatusCancelled},
		{"timeout commits between confirm's read and write", orderKey, reserved, sweep, order.StatusCancelled},
		{"confirm commits between timeout's read and write", orderKey, sweep, reserved, order.StatusConfirmed},
		{"confirm, then the timeout", nil, func(f *fixture, id string) error {
			if err := reserved(f, id); err != nil {
				return err
			}
			return sweep(f, id)
		}, nil, order.StatusConfirmed},
		{"timeout, then the late reservation", nil, func(f *fixture, id string) error {
			if err := sweep(f, id); err != nil {
				return err
			}
			return reserved(f, id)
		}, nil, order.StatusCancelled},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture()
			o := f.place(t, "tok_visa", "")
			f.advance(2 * timeout)
			if tt.key != nil {
				ran := false
				f.env.State.BeforeWrite = func(key string) {
					if key == tt.key(o.ID) && !ran {
						ran = true // the interleaved step's own writes pass
						if err := tt.between(f, o.ID); err != nil {
							t.Errorf("interleaved step = %v", err)
						}
					}
				}
			}
			if err := tt.step(f, o.ID); err != nil {
				t.Fatalf("step = %v", err)
			}
			f.env.State.BeforeWrite = nil
			// Deliveries the race left for later: ordersvc's own
			// order.cancelled (refund), and a redelivered reservation.
			if err := f.svc.OnCancelled(context.Background(), o.ID); err != nil {
				t.Fatal(err)
			}
			if err := reserved(f, o.ID); err != nil {
				t.Fatal(err)
			}
			got := f.order(t, o.ID)
			pub := f.published(o.ID)
			charges, refunds := f.env.Ledger.Charges(o.ID), f.env.Ledger.Refunds(o.ID)
			if got.Status != tt.want {
				t.Fatalf("order ended %s (%s); want %s", got.Status, got.StatusReason, tt.want)
			}
			switch got.Status {
			case order.StatusConfirmed:
				if slices.ContainsFunc(pub, func(e string) bool { return strings.HasPrefix(e, order.TypeOrderCancelled) }) {
					t.Errorf("confirmed order was announced cancelled: %v", pub)
				}
				if charges != 1 || refunds != 0 {
					t.Errorf("confirmed order: %d charges, %d refunds; want 1, 0", charges, refunds)
				}
			case order.StatusCancelled:
				if got.StatusReason != order.ReasonTimeout || slices.Contains(pub, order.TypeOrderConfirmed) || !slices.Contains(pub, "order.cancelled/saga_timeout") {
					t.Errorf("cancelled order (%s) published %v; want order.cancelled/saga_timeout and never order.confirmed", got.StatusReason, pub)
				}
				if charges > 1 || refunds != charges {
					t.Errorf("cancelled order: %d charges, %d refunds; want every charge refunded", charges, refunds)
				}
			}
			if len(got.Outbox) != 0 {
				t.Errorf("outbox %v left after the race", got.Outbox)
			}
		})
	}
}

// Two replicas sweeping at once: one timeout cancel commits, its event is
// published at least once, and the order ends cancelled once.
func TestConcurrentSweepsAreSafe(t *testing.T) {
	f := newFixture()
	o := f.place(t, "tok_visa", "")
	f.advance(time.Hour)
	var wg sync.WaitGroup
	results := make([]order.SweepResult, 4)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			if results[i], err = f.svc.Sweep(context.Background(), time.Minute); err != nil {
				t.Errorf("Sweep() = %v", err)
			}
		}()
	}
	wg.Wait()
	timedOut := 0
	for _, r := range results {
		timedOut += r.TimedOut
	}
	if timedOut != 1 {
		t.Errorf("%d sweeps cancelled the order; want exactly 1", timedOut)
	}
	if got := f.order(t, o.ID); got.Status != order.StatusCancelled || len(got.Outbox) != 0 {
		t.Errorf("order is %s with outbox %v; want cancelled, published", got.Status, got.Outbox)
	}
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
	for range 2 {
		if err := f.svc.OnCancelled(context.Background(), o.ID); err != nil || f.env.Ledger.Refunds(o.ID) != 1 {
			t.Errorf("OnCancelled() = %v with %d refunds; want one refund", err, f.env.Ledger.Refunds(o.ID))
		}
	}
	if _, err := f.svc.Cancel(context.Background(), o.ID, "u1", false); !errors.Is(err, order.ErrNotCancellable) {
		t.Errorf("Cancel(cancelled) = %v; want order.ErrNotCancellable", err)
	}
}

func TestOnCancelledRefundsOnlyCancelledOrders(t *testing.T) {
	f := newFixture()
	o := f.place(t, "tok_visa", "")
	if err := f.svc.OnReserved(context.Background(), o.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.OnCancelled(context.Background(), o.ID); err != nil || f.env.Ledger.Refunds(o.ID) != 0 {
		t.Errorf("OnCancelled(confirmed) = %v with %d refunds; want none", err, f.env.Ledger.Refunds(o.ID))
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

func TestValidKeyPart(t *testing.T) {
	for s, want := range map[string]bool{
		"k1": true, "order-2026-01-01/x": true, strings.Repeat("k", 128): true,
		"": false, "a||b": false, "a\x00b": false, "tab\t": false, strings.Repeat("k", 129): false,
		"zero\u200bwidth": false, "bidi\u202eoverride": false, "\ufeffbom": false, "bad\xffutf8": false,
		"café": true,
	} {
		if got := order.ValidKeyPart(s); got != want {
			t.Errorf("ValidKeyPart(%q) = %v; want %v", s, got, want)
		}
	}
}
