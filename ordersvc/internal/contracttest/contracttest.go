// Package contracttest gives the store adapters' contract suites their
// stores: the fake state API, and, when the end-to-end suite names one, a
// real sidecar of the profile under test.
package contracttest

import (
	"context"
	"os"
	"testing"

	dapr "github.com/dapr/go-sdk/client"

	"shop/platform/daprstate"
	"shop/platform/daprstate/daprstatetest"
)

// SidecarEnv names the gRPC address of the sidecar to run contracts on.
const SidecarEnv = "ORDERS_CONTRACT_DAPR_GRPC"

// Store is the orders state store on which the contract of the test runs.
const Store = "orders-state"

// Fake returns a store on the fake state API.
func Fake() *daprstate.Store { return daprstate.New(daprstatetest.New(), Store) }

// Sidecar returns a store through the sidecar that SidecarEnv names, and
// skips the test when it is not set.
func Sidecar(t *testing.T) *daprstate.Store {
	t.Helper()
	addr := os.Getenv(SidecarEnv)
	if addr == "" {
		t.Skip(SidecarEnv + " not set: the e2e suite runs this against each profile's sidecar")
	}
	client, err := dapr.NewClientWithAddressContext(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(client.Close)
	return daprstate.New(client, Store)
}
