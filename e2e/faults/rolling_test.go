package faults

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestRollingRestart restarts every replica of every service, one at a
// time, as a Deployment's rolling update does (SIGTERM to the sidecar,
// then to the app; each drains what it has in flight), while orders come
// in at 50 a second. The client sees no failure but documented 503s (retried
// after Retry-After), and every accepted order completes once.
//
// The sidecar restarts before its app, so for a moment it takes calls it
// cannot pass on; the gateway (components/gateway/resiliency.yaml) tries
// another replica for those, and for calls to a replica that is stopping.
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
		for i := range sys.Replicas(svc) {
			name := fmt.Sprintf("%s-%d", svc, i+1) // this replica alone
			start := time.Now()
			// The sidecar first: it stops taking calls (the gateway's
			// retry goes to another replica) and finishes those in flight
			// while its app still serves; then the app drains.
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
		}
	}
	waitFor(3 * time.Second)
	load.settle(t, stock)
}
