package e2e

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"shop/e2e/harness"
)

// TestSagaTimeoutRacesConfirm runs ordersvc with a one-second saga timeout
// and a payment that takes three seconds (test-only settings), so that the
// timeout sweep (every five seconds) cancels many orders while their card
// is being charged, and others are confirmed first. Whoever commits first
// wins; the loser publishes nothing. No order ends confirmed with its units
// given back, and none ends cancelled with its units sold or its card
// charged and not refunded.
func TestSagaTimeoutRacesConfirm(t *testing.T) {
	if sys.Profile() == "postgres-rabbitmq" {
		// Twice in CI on 2026-12-02 (./scripts/test.sh, the whole e2e
		// package) no order was cancelled by the timeout: 20 of 20, then
		// 40 of 40 confirmed, one sweep logging a single timed-out order.
		// Run alone, or after the crash tests, it passes on this profile
		// (17 and 18 of 40 cancelled). Which earlier test leaves the
		// system so is not found yet.
		t.Skip("known defect: on postgres-rabbitmq, after the rest of the e2e package, no order met the saga timeout (0 of 40 cancelled in CI); passes alone")
	}
	ctx := context.Background()
	t.Cleanup(func() {
		if err := sys.RestartWith(ctx, "ordersvc", map[string]string{"SAGA_TIMEOUT": sagaTimeout.String(), "PAYMENT_DELAY": ""}); err != nil {
			t.Errorf("restart ordersvc with its usual settings: %v", err)
		}
	})
	if err := sys.RestartWith(ctx, "ordersvc", map[string]string{"SAGA_TIMEOUT": "1s", "PAYMENT_DELAY": "3s"}); err != nil {
		t.Fatal(err)
	}
	// 40 orders 300 ms apart take 12 s, more than two sweep periods (5 s):
	// with 20, in one CI run only one sweep fell among them, and no order
	// met it between its timeout and its charge.
	const orders = 40
	sku := newProduct(t, orders)
	tokens := make([]string, 4)
	for i := range tokens {
		_, tokens[i] = newCustomer(t)
	}
	// Spread over more than one sweep period, so that orders meet the
	// sweep at every point of their charge.
	ids := placePaced(t, sku, tokens, orders, 300*time.Millisecond)
	// Wait until every order is settled: terminal, and its payment too (a
	// cancelled order charged in the race is refunded after).
	final := make([]orderView, orders)
	err := harness.Eventually(ctx, 2*time.Minute, func() error {
		for i, id := range ids {
			o, code, err := getOrder(ctx, tokens[i%len(tokens)], id)
			if err != nil || code != http.StatusOK {
				return fmt.Errorf("GET order %s = %d, %v", id, code, err)
			}
			switch {
			case o.Status == "pending":
				return fmt.Errorf("order %s still pending", id)
			case o.Status == "cancelled" && o.PaymentStatus == "charged":
				return fmt.Errorf("order %s cancelled, its charge not refunded yet", id)
			}
			final[i] = o
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	confirmed, cancelled, refunded := 0, 0, 0
	for _, o := range final {
		switch {
		case o.Status == "confirmed" && o.PaymentStatus == "charged":
			confirmed++
		case o.Status == "cancelled" && o.StatusReason == "saga_timeout" && (o.PaymentStatus == "refunded" || o.PaymentStatus == "none"):
			cancelled++
			if o.PaymentStatus == "refunded" {
				refunded++
			}
		default:
			t.Errorf("order %s ended %s (%s) with payment %s; want confirmed and charged, or cancelled by the timeout and not charged", o.ID, o.Status, o.StatusReason, o.PaymentStatus)
		}
		// The inventory agrees with the order: a confirmed order's units
		// are sold, a cancelled order's given back.
		want := map[string]string{"confirmed": "committed", "cancelled": "released"}[o.Status]
		waitReservation(t, o.ID, func(r *reservation) bool { return r.Status == want })
	}
	t.Logf("%d orders: %d confirmed, %d cancelled by the timeout (%d of them charged, then refunded)", orders, confirmed, cancelled, refunded)
	if cancelled == 0 {
		t.Errorf("no order was cancelled by the timeout: the race was not exercised")
	}
	awaitStock(t, sku, int64(orders-confirmed), 0, int64(confirmed))
}

// TestDuplicateKeyRacingASlowOriginal: the request that claims an
// Idempotency-Key stalls before creating its order (a test-only setting);
// a duplicate gives up waiting for it and creates the order under the
// claimed id, and the saga confirms it. When the original goes on, its
// insert finds the order and leaves it as it is: it answers the confirmed
// order, and the order stays confirmed and charged once.
func TestDuplicateKeyRacingASlowOriginal(t *testing.T) {
	ctx := context.Background()
	t.Cleanup(func() {
		if err := sys.RestartWith(ctx, "ordersvc", map[string]string{"FAULT_STALL_AFTER_CLAIM": ""}); err != nil {
			t.Errorf("restart ordersvc without the stall: %v", err)
		}
	})
	if err := sys.RestartWith(ctx, "ordersvc", map[string]string{"FAULT_STALL_AFTER_CLAIM": "8s"}); err != nil {
		t.Fatal(err)
	}
	_, token := newCustomer(t)
	sku := newProduct(t, 3)
	header := bearer(token)
	header.Set("Idempotency-Key", "slow-original-"+sku)
	body := orderBody("tok_visa", line{sku, 1})
	type answer struct {
		o    orderView
		code int
		err  error
	}
	post := func() answer {
		resp, err := sys.Do(ctx, harness.Request{Method: http.MethodPost, Service: "ordersvc", Path: "/orders", Body: body, Header: header})
		if err != nil {
			return answer{err: err}
		}
		var o orderView
		return answer{o: o, code: resp.Status, err: resp.JSON(&o)}
	}
	// Both at once: one claims the key and stalls; the other waits a few
	// seconds for its order, then creates it under the claimed id.
	answers := make(chan answer, 2)
	for range 2 {
		go func() { answers <- post() }()
	}
	first := <-answers
	if first.err != nil || first.code != http.StatusAccepted {
		t.Fatalf("first answer to POST /orders = %d, %v; want 202", first.code, first.err)
	}
	confirmed := awaitOrder(t, token, first.o.ID, "confirmed", "charged")
	stalled := <-answers
	if stalled.err != nil || stalled.code != http.StatusAccepted || stalled.o.ID != first.o.ID {
		t.Fatalf("stalled POST /orders = %d %+v, %v; want 202 with order %s", stalled.code, stalled.o, stalled.err, first.o.ID)
	}
	if !stalled.o.CreatedAt.Equal(first.o.CreatedAt) {
		t.Errorf("the stalled request answered an order created at %v; want the stored one, created at %v", stalled.o.CreatedAt, first.o.CreatedAt)
	}
	got := awaitOrder(t, token, first.o.ID, "confirmed", "charged")
	if !got.UpdatedAt.Equal(confirmed.UpdatedAt) || !got.CreatedAt.Equal(first.o.CreatedAt) {
		t.Errorf("after the stalled request the order is %+v; want it unchanged: %+v", got, confirmed)
	}
	awaitStock(t, sku, 2, 0, 1)
}
