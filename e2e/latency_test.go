package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"
	"testing"
	"time"

	"shop/e2e/harness"
)

// TestConfirmationLatency places orders at a steady 20 a second for ten
// seconds and reports how long each took from created to confirmed, by the
// service's own clock (created_at, and updated_at of the confirmed order).
// It measures and reports; it asserts only that every order is confirmed.
// Run it on its own: E2E_MEASURE=1 go test -run TestConfirmationLatency ./e2e/
func TestConfirmationLatency(t *testing.T) {
	if os.Getenv("E2E_MEASURE") == "" {
		t.Skip("a measurement: set E2E_MEASURE=1 to run it")
	}
	const rate, seconds = 20, 10
	const total = rate * seconds
	sku := newProduct(t, total)
	tokens := make([]string, 10)
	for i := range tokens {
		_, tokens[i] = newCustomer(t)
	}
	ctx := context.Background()
	ids := placePaced(t, sku, tokens, total, time.Second/rate)
	var took []time.Duration
	done := map[string]bool{}
	err := harness.Eventually(ctx, 2*time.Minute, func() error {
		for i, id := range ids {
			if done[id] {
				continue
			}
			o, code, err := getOrder(ctx, tokens[i%len(tokens)], id)
			if err != nil || code != http.StatusOK {
				return fmt.Errorf("GET order %s = %d, %v", id, code, err)
			}
			switch o.Status {
			case "pending":
				return fmt.Errorf("order %s still pending", id)
			case "confirmed":
				done[id] = true
				took = append(took, o.UpdatedAt.Sub(o.CreatedAt))
			default:
				return fmt.Errorf("order %s ended %s (%s); want confirmed", id, o.Status, o.StatusReason)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(took)
	n := len(took)
	t.Logf("profile %s, %d orders at %d/s: created -> confirmed p50 %v, p90 %v, p99 %v, max %v", sys.Profile(), n, rate,
		took[n/2].Round(time.Millisecond), took[n*90/100].Round(time.Millisecond), took[n*99/100].Round(time.Millisecond), took[n-1].Round(time.Millisecond))
}
