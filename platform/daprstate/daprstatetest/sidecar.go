package daprstatetest

import (
	"context"
	"os"
	"testing"
	"time"

	dapr "github.com/dapr/go-sdk/client"

	"shop/platform/daprstate"
)

// The variables with which e2e/contract_test.go runs a store adapter's
// contract suite against a real sidecar of a profile: the address of the
// sidecar's gRPC API, and the state store component.
const (
	EnvSidecar = "STORE_CONTRACT_DAPR_GRPC"
	EnvStore   = "STORE_CONTRACT_STORE"
)

// Component is a state store component and the client that reaches it: what
// a store adapter's contract suite runs on.
type Component struct {
	Client daprstate.Client
	Name   string
}

// FakeComponent is the component name on the fake state API (New).
func FakeComponent(name string) Component { return Component{Client: New(), Name: name} }

// Sidecar returns a client of the sidecar that EnvSidecar names and the
// component EnvStore names (defaultStore when unset), closed when t ends.
// It skips t when EnvSidecar is not set: the suite then runs only against
// the fake.
func Sidecar(t testing.TB, defaultStore string) Component {
	t.Helper()
	addr := os.Getenv(EnvSidecar)
	if addr == "" {
		t.Skipf("%s is not set: e2e/contract_test.go runs this against each profile's sidecar", EnvSidecar)
	}
	name := os.Getenv(EnvStore)
	if name == "" {
		name = defaultStore
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client, err := dapr.NewClientWithAddressContext(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(client.Close)
	return Component{Client: client, Name: name}
}
