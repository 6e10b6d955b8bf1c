package e2e

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"shop/e2e/harness"
)

// TestNoOversell: 300 concurrent orders from 30 customers for a product with
// 100 in stock. Exactly 100 orders are confirmed and the other 200 rejected
// out of stock, none timed out; the stock adds up.
func TestNoOversell(t *testing.T) {
	const customers, perCustomer, stock = 30, 10, 100
	sku := newProduct(t, stock)
	tokens := make([]string, customers)
	for i := range tokens {
		_, tokens[i] = newCustomer(t)
	}
	type placed struct{ id, token string }
	var (
		mu     sync.Mutex
		orders []placed
		wg     sync.WaitGroup
	)
	start := time.Now()
	for c := range customers {
		for range perCustomer {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp, err := sys.Do(context.Background(), harness.Request{Method: http.MethodPost, Service: "ordersvc", Path: "/orders",
					Body: orderBody("tok_visa", line{sku, 1}), Header: bearer(tokens[c])})
				if err != nil {
					t.Error(err)
					return
				}
				if resp.Status != http.StatusAccepted {
					t.Errorf("POST /orders = %d %s; want 202", resp.Status, resp.Body)
					return
				}
				var o orderView
				if err := resp.JSON(&o); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				orders = append(orders, placed{o.ID, tokens[c]})
				mu.Unlock()
			}()
		}
	}
	wg.Wait()
	accepted := time.Since(start)
	if t.Failed() {
		t.FailNow()
	}
	t.Logf("%d orders accepted in %v: %.1f orders/s", len(orders), accepted.Round(time.Millisecond), float64(len(orders))/accepted.Seconds())

	// Every order reaches a terminal state.
	final := map[string]orderView{}
	err := harness.Eventually(context.Background(), 3*time.Minute, func() error {
		pending := 0
		for _, p := range orders {
			if _, ok := final[p.id]; ok {
				continue
			}
			o, code, err := getOrder(context.Background(), p.token, p.id)
			if err != nil || code != http.StatusOK {
				return fmt.Errorf("GET order %s = %d, %v", p.id, code, err)
			}
			if o.Status == "pending" {
				pending++
				continue
			}
			final[p.id] = o
		}
		if pending > 0 {
			return fmt.Errorf("%d orders still pending", pending)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var confirmed, rejected int
	var toConfirm []time.Duration
	for id, o := range final {
		switch {
		case o.Status == "confirmed":
			confirmed++
			// The service's own clock: accepted at created_at, confirmed at
			// updated_at (a confirmed order changes no more).
			toConfirm = append(toConfirm, o.UpdatedAt.Sub(o.CreatedAt))
		case o.Status == "rejected" && o.StatusReason == "out_of_stock":
			rejected++
		default:
			// A saga timeout here is a defect: every event of every order
			// must be handled well within the timeout.
			t.Errorf("order %s ended %s (%s); want confirmed or rejected out_of_stock", id, o.Status, o.StatusReason)
		}
	}
	if confirmed != stock || rejected != len(orders)-stock {
		t.Errorf("%d confirmed, %d rejected; want %d and %d", confirmed, rejected, stock, len(orders)-stock)
	}
	// Every unit is sold to a confirmed order or available again.
	awaitStock(t, sku, int64(stock-confirmed), 0, int64(confirmed))
	slices.Sort(toConfirm)
	if n := len(toConfirm); n > 0 {
		t.Logf("POST /orders -> confirmed: p50 %v, p99 %v", toConfirm[n/2].Round(time.Millisecond), toConfirm[n*99/100].Round(time.Millisecond))
	}
}
