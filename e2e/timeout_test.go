package e2e

import (
	"context"
	"fmt"
	"testing"

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
	inventoryDown := false
	defer func() {
		if inventoryDown {
			if err := sys.Restart(ctx, "inventorysvc"); err != nil {
				t.Error(err)
			}
		}
	}()
	o := crashAfterCommit(t, token, orderBody("tok_visa", line{sku, 2}), bearer(token), func() {
		if err := sys.Kill("inventorysvc"); err != nil {
			t.Fatal(err)
		}
		inventoryDown = true
	})
	var got orderView
	err := harness.Eventually(ctx, 3*sagaTimeout, func() error {
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
