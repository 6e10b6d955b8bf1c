package faults

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"shop/e2e/harness"
)

// TestRollingRestart restarts every replica of every service, one at a
// time, as a Deployment's rolling update does (SIGTERM to the sidecar,
// then to the app; each drains what it has in flight), while orders come
// in at 50 a second. The client sees no failure but documented 503s (retried
// after Retry-After), and every accepted order completes once.
//
// The sidecar restarts before its app, so for a moment it takes calls it
// cannot pass on; those, and calls to a replica that has stopped, are 503
// problem details (tools/daprd/invokeproblems), which the client retries.
//
// The next replica stops only once the restarted one serves the load
// again, as a Deployment waits for a new pod to be ready: self-hosted, a
// restarted replica keeps its address, and its callers' connections to it
// back off for some seconds after failing (gRPC's reconnect backoff).
// Stopping the other replica before then leaves none that callers reach.
func TestRollingRestart(t *testing.T) {
	ctx := context.Background()
	admin := adminToken(t)
	_, token := newCustomer(t)
	const stock = 100000
	sku := newProduct(t, admin, stock)
	load := newShopper(sku, token, 50)
	load.run()
	waitFor(3 * time.Second)
	for _, svc := range []string{"inventorysvc", "ordersvc", "usersvc"} {
		for i, replica := range sys.Replicas(svc) {
			name := fmt.Sprintf("%s-%d", svc, i+1) // this replica alone
			start := time.Now()
			served := servedBy(t, svc, replica)
			// The sidecar first: it stops taking calls (a client's retry
			// after the 503 goes to another replica) and finishes those in
			// flight while its app still serves; then the app drains.
			if err := sys.Terminate(name + "-dapr"); err != nil {
				t.Fatal(err)
			}
			if err := sys.Terminate(name); err != nil {
				t.Fatal(err)
			}
			if err := sys.Restart(ctx, name+"-dapr"); err != nil {
				t.Fatalf("restart %s-dapr: %v", name, err)
			}
			if err := sys.Restart(ctx, name); err != nil {
				t.Fatalf("restart %s: %v", name, err)
			}
			t.Logf("%s restarted in %v", name, time.Since(start).Round(time.Millisecond))
			if _, takesLoad := loadCalls[svc]; !takesLoad {
				continue
			}
			if err := harness.Eventually(ctx, 30*time.Second, func() error {
				if n := servedBy(t, svc, replica); n <= served {
					return fmt.Errorf("%s has served no call of the load since it restarted", name)
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			t.Logf("%s serves again %v after it was stopped", name, time.Since(start).Round(time.Millisecond))
		}
	}
	waitFor(3 * time.Second)
	load.settle(t, stock)
}

// loadCalls is, per service, the call of the order load each replica
// takes; usersvc takes none (the others cached its signing keys).
var loadCalls = map[string][2]string{
	"ordersvc":     {http.MethodPost, "/orders"},
	"inventorysvc": {http.MethodPost, "/products/lookup"},
}

// servedBy is how many calls of the load the replica of svc has served
// (a name of System.Replicas; 0 for a service the load does not call).
func servedBy(t *testing.T, svc, replica string) int {
	t.Helper()
	call, ok := loadCalls[svc]
	if !ok {
		return 0
	}
	return requestsPerReplica(t, svc, call[0], call[1])[replica]
}
