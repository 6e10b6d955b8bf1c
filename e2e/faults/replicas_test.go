package faults

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"shop/e2e/harness"
)

// TestInvocationSpreadsOverReplicas places orders and reads the catalog
// through the gateway: every replica of ordersvc takes some of the orders,
// and every replica of inventorysvc some of the price lookups and
// catalog reads. Each replica has its own sidecar under the same app id;
// Dapr's name resolution spreads the calls.
func TestInvocationSpreadsOverReplicas(t *testing.T) {
	admin := adminToken(t)
	_, token := newCustomer(t)
	const orders = 30
	sku := newProduct(t, admin, orders)
	before := requestsPerReplica(t, "ordersvc", http.MethodPost, "/orders")
	lookupsBefore := requestsPerReplica(t, "inventorysvc", http.MethodPost, "/products/lookup")
	ids := placeOrders(t, token, sku, orders)
	final := awaitTerminal(t, ids, time.Minute)
	checkOutcome(t, sku, orders, final)
	checkChargedOnce(t, final)

	after := requestsPerReplica(t, "ordersvc", http.MethodPost, "/orders")
	lookups := requestsPerReplica(t, "inventorysvc", http.MethodPost, "/products/lookup")
	split, lookupSplit := map[string]int{}, map[string]int{}
	for name := range after {
		split[name] = after[name] - before[name]
		if split[name] == 0 {
			t.Errorf("replica %s took none of the %d orders (split %v)", name, orders, split)
		}
	}
	for name := range lookups {
		lookupSplit[name] = lookups[name] - lookupsBefore[name]
		if lookupSplit[name] == 0 {
			t.Errorf("replica %s priced none of the %d orders (split %v)", name, orders, lookupSplit)
		}
	}
	t.Logf("POST /orders per ordersvc replica: %v; POST /products/lookup per inventorysvc replica: %v", split, lookupSplit)
}

// TestEveryReplicaSweeps shows how the periodic work runs with replicas:
// the cron binding fires in every replica's sidecar, so each replica runs
// the sweep (relay and saga timeout) on each tick, at the same time as
// the others. That is safe by design (docs/saga.md, "Sweep"): every write
// of the sweep is guarded by the ETag it read, and a second publish of an
// event is absorbed by the idempotent consumers. TestBrokerOutage shows it
// under load: the events that could not be published are relayed by the
// replicas' sweeps at once, and each order is still reserved, charged and
// sold once.
func TestEveryReplicaSweeps(t *testing.T) {
	err := harness.Eventually(t.Context(), 30*time.Second, func() error {
		sweeps := requestsPerReplica(t, "ordersvc", http.MethodPost, "/saga-timeout")
		for name, n := range sweeps {
			if n < 2 {
				return fmt.Errorf("replica %s ran %d sweeps (all: %v)", name, n, sweeps)
			}
		}
		t.Logf("sweeps per ordersvc replica so far: %v", sweeps)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
