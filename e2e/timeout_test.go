package e2e

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"shop/e2e/harness"
)

// TestSagaTimeout: nobody answers an order's order.created, so the order is
// cancelled when the saga times out. To hold the event back, ordersvc stops
// right after storing the order (the test-only fault hook) and inventorysvc
// is stopped before ordersvc comes back, whose sweep then publishes the
// event. Once inventorysvc is back it gets order.created and the
// cancellation; its reservation ends released and the stock is whole.
func TestSagaTimeout(t *testing.T) {
	_, token := newCustomer(t)
	ctx := context.Background()
	sku := newProduct(t, 5)
	t.Cleanup(func() {
		if err := sys.RestartWith(ctx, "ordersvc", map[string]string{"FAULT_CRASH_AFTER_COMMIT": ""}); err != nil {
			t.Errorf("restart ordersvc without the fault hook: %v", err)
		}
	})
	if err := sys.RestartWith(ctx, "ordersvc", map[string]string{"FAULT_CRASH_AFTER_COMMIT": "created"}); err != nil {
		t.Fatal(err)
	}
	resp, err := sys.Do(ctx, harness.Request{Method: http.MethodPost, Service: "ordersvc", Path: "/orders",
		Body: orderBody("tok_visa", line{sku, 2}), Header: bearer(token)})
	if err == nil && resp.Status == http.StatusAccepted {
		t.Fatalf("POST /orders = 202 %s; want no answer, ordersvc exiting after the commit", resp.Body)
	}
	waitCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := sys.Exited(waitCtx, "ordersvc"); err != nil {
		t.Fatal(err)
	}
	if err := sys.Kill("inventorysvc"); err != nil {
		t.Fatal(err)
	}
	inventoryDown := true
	defer func() {
		if inventoryDown {
			if err := sys.Restart(ctx, "inventorysvc"); err != nil {
				t.Error(err)
			}
		}
	}()
	if err := sys.RestartWith(ctx, "ordersvc", map[string]string{"FAULT_CRASH_AFTER_COMMIT": ""}); err != nil {
		t.Fatal(err)
	}
	var o orderView
	err = harness.Eventually(ctx, 30*time.Second, func() error {
		resp, err := sys.Do(ctx, harness.Request{Method: http.MethodGet, Service: "ordersvc", Path: "/orders", Header: bearer(token)})
		if err != nil {
			return err
		}
		var page struct {
			Orders []orderView `json:"orders"`
		}
		if err := resp.JSON(&page); err != nil || len(page.Orders) != 1 {
			return fmt.Errorf("GET /orders = %d %s; want one order", resp.Status, resp.Body)
		}
		o = page.Orders[0]
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var got orderView
	err = harness.Eventually(ctx, 3*sagaTimeout, func() error {
		var err error
		if got, _, err = getOrder(ctx, token, o.ID); err != nil {
			return err
		}
		if got.Status != "cancelled" {
			return fmt.Errorf("order is %s", got.Status)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := sys.Restart(ctx, "inventorysvc"); err != nil {
		t.Fatal(err)
	}
	inventoryDown = false
	if got.StatusReason != "saga_timeout" || got.PaymentStatus != "none" {
		t.Errorf("order %s (%s), payment %s; want cancelled by saga_timeout, no payment", got.Status, got.StatusReason, got.PaymentStatus)
	}
	if age := got.UpdatedAt.Sub(got.CreatedAt); age < sagaTimeout {
		t.Errorf("cancelled %v after it was placed; want no sooner than the saga timeout %v", age, sagaTimeout)
	}
	// The late order.created reaches the inventory, and what it did is
	// undone: the reservation ends released (reserved and given back, or
	// refused because the cancellation came first), the stock is whole,
	// and the order stays cancelled.
	r := waitReservation(t, o.ID, func(r *reservation) bool { return r.Status == "released" && r.Outcome != "" })
	t.Logf("late reservation: %s, outcome %s", r.Status, r.Outcome)
	awaitStock(t, sku, 5, 0, 0)
	if got := awaitOrder(t, token, o.ID, "cancelled", "none"); got.StatusReason != "saga_timeout" {
		t.Errorf("after the late reservation the order is %s (%s)", got.Status, got.StatusReason)
	}
}
