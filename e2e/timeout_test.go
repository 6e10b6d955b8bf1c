package e2e

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"shop/e2e/harness"
)

// TestSagaTimeout: inventorysvc goes down right after an order is accepted,
// so nobody answers its order.created. The order is cancelled when the saga
// times out. Once inventorysvc is back it gets the event and reserves;
// ordersvc, finding the order cancelled, has the reservation released.
func TestSagaTimeout(t *testing.T) {
	_, token := newCustomer(t)
	ctx := context.Background()
	var sku string
	var o orderView
	for attempt := 0; ; attempt++ {
		if attempt == 3 {
			t.Fatal("inventorysvc answered every order before it could be stopped")
		}
		sku = newProduct(t, 5)
		o = placeOrder(t, token, orderBody("tok_visa", line{sku, 2}))
		// The outbox publishes a second after the commit: time enough to
		// take inventorysvc down before order.created reaches it.
		if err := sys.Kill("inventorysvc"); err != nil {
			t.Fatal(err)
		}
		got, code, err := getOrder(ctx, token, o.ID)
		if err != nil || code != http.StatusOK {
			t.Fatalf("GET order = %d, %v", code, err)
		}
		if got.Status == "pending" {
			break
		}
		if err := sys.Restart(ctx, "inventorysvc"); err != nil {
			t.Fatal(err)
		}
	}
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
	if restartErr := sys.Restart(ctx, "inventorysvc"); restartErr != nil {
		t.Fatal(restartErr)
	}
	if err != nil {
		t.Fatal(err)
	}
	if got.StatusReason != "saga_timeout" || got.PaymentStatus != "none" {
		t.Errorf("order %s (%s), payment %s; want cancelled by saga_timeout, no payment", got.Status, got.StatusReason, got.PaymentStatus)
	}
	if age := got.UpdatedAt.Sub(got.CreatedAt); age < sagaTimeout {
		t.Errorf("cancelled %v after it was placed; want no sooner than the saga timeout %v", age, sagaTimeout)
	}
	// The late reservation is released: the stock is whole again, and the
	// order stays cancelled.
	awaitStock(t, sku, 5, 0, 0)
	if got := awaitOrder(t, token, o.ID, "cancelled", "none"); got.StatusReason != "saga_timeout" {
		t.Errorf("after the late reservation the order is %s (%s)", got.Status, got.StatusReason)
	}
}
