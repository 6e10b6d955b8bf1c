package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"shop/e2e/harness"
)

// TestPoisonMessageGoesToDeadLetters: an event that can never be processed
// (here: inventory outcomes without an order id, or whose data is not JSON)
// lands in ordersvc's dead letters, where an admin can read it, and the
// events behind it still flow: a new order is confirmed.
func TestPoisonMessageGoesToDeadLetters(t *testing.T) {
	ctx := context.Background()
	marker := fmt.Sprintf("poison-%d", time.Now().UnixNano())
	if err := sys.Publish(ctx, "inventory", map[string]any{"type": "inventory.reserved", "note": marker}); err != nil {
		t.Fatal(err)
	}
	if err := sys.Publish(ctx, "inventory", marker+" is not JSON"); err != nil {
		t.Fatal(err)
	}

	_, token := newCustomer(t)
	sku := newProduct(t, 3)
	o := placeOrder(t, token, orderBody("tok_visa", line{sku, 1}))
	awaitOrder(t, token, o.ID, "confirmed", "charged")

	err := harness.Eventually(ctx, 30*time.Second, func() error {
		resp, err := sys.Do(ctx, harness.Request{Method: http.MethodGet, Service: "ordersvc", Path: "/dead-letters", Header: bearer(adminToken(t))})
		if err != nil {
			return err
		}
		if resp.Status != http.StatusOK {
			return fmt.Errorf("GET /dead-letters = %d %s", resp.Status, resp.Body)
		}
		var out struct {
			DeadLetters []struct {
				Topic string `json:"topic"`
				Data  any    `json:"data"`
			} `json:"dead_letters"`
		}
		if err := resp.JSON(&out); err != nil {
			return err
		}
		found := 0
		for _, l := range out.DeadLetters {
			if l.Topic == sys.Topic("inventory") && containsString(l.Data, marker) {
				found++
			}
		}
		if found != 2 {
			return fmt.Errorf("%d of the 2 poison messages in %d dead letters", found, len(out.DeadLetters))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// Dead letters are for admins only.
	_, customer := newCustomer(t)
	resp, err := sys.Do(ctx, harness.Request{Method: http.MethodGet, Service: "ordersvc", Path: "/dead-letters", Header: bearer(customer)})
	if err != nil {
		t.Fatal(err)
	}
	checkProblem(t, "a customer reads dead letters", resp, http.StatusForbidden, "")
}

// containsString reports whether v, a decoded JSON value, holds s in any
// string.
func containsString(v any, s string) bool {
	switch v := v.(type) {
	case string:
		return strings.Contains(v, s)
	case map[string]any:
		for _, x := range v {
			if containsString(x, s) {
				return true
			}
		}
	case []any:
		for _, x := range v {
			if containsString(x, s) {
				return true
			}
		}
	}
	return false
}
