package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	dapr "github.com/dapr/go-sdk/client"

	"shop/platform/daprstate"
	"shop/platform/daprstate/daprstatetest"
)

// The store contract: what the services rely on from every profile's state
// stores, checked through a real sidecar (ordersvc's, on its orders-state).
func TestStoreContract(t *testing.T) {
	ctx := context.Background()
	client, err := dapr.NewClientWithAddressContext(ctx, sys.SidecarGRPC("ordersvc"))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	client.WithAuthToken(sys.SidecarToken("ordersvc"))
	const store = "orders-state"
	firstWrite := dapr.WithConcurrency(dapr.StateConcurrencyFirstWrite)
	key := fmt.Sprintf("contract-%d", time.Now().UnixNano())

	t.Run("insert without an ETag is insert-if-absent", func(t *testing.T) {
		if err := client.SaveState(ctx, store, key, []byte(`"v1"`), nil, firstWrite); err != nil {
			t.Fatalf("first insert: %v", err)
		}
		err := client.SaveState(ctx, store, key, []byte(`"v2"`), nil, firstWrite)
		if !daprstate.IsConflict(err) {
			t.Errorf("second insert = %v; want a conflict", err)
		}
		item, err := client.GetState(ctx, store, key, nil)
		if err != nil || string(item.Value) != `"v1"` {
			t.Errorf("after a lost insert the value is %s, %v; want v1", item.Value, err)
		}
	})

	t.Run("a stale ETag is a conflict", func(t *testing.T) {
		item, err := client.GetState(ctx, store, key, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := client.SaveStateWithETag(ctx, store, key, []byte(`"v3"`), item.Etag, nil, firstWrite); err != nil {
			t.Fatalf("write with the current ETag: %v", err)
		}
		err = client.SaveStateWithETag(ctx, store, key, []byte(`"v4"`), item.Etag, nil, firstWrite)
		if !daprstate.IsConflict(err) {
			t.Errorf("write with a stale ETag = %v; want a conflict", err)
		}
		err = client.SaveStateWithETag(ctx, store, key, []byte(`"v4"`), "not-an-etag", nil, firstWrite)
		if !daprstate.IsConflict(err) {
			t.Errorf("write with a malformed ETag = %v; want a conflict", err)
		}
	})

	// PostgreSQL and in-memory roll a failed transaction back; Redis does
	// not (its MULTI/EXEC has no rollback: the state.redis component of
	// daprd 1.14 to 1.18 says so in a warning). The services therefore never rely on
	// a transaction failing as a whole: every write they make is idempotent
	// per order, so a partly applied transaction converges when retried.
	t.Run("a transaction with a stale ETag: rolled back, except on Redis", func(t *testing.T) {
		other := key + "-other"
		item, err := client.GetState(ctx, store, key, nil)
		if err != nil {
			t.Fatal(err)
		}
		stale := item.Etag
		if err := client.SaveStateWithETag(ctx, store, key, []byte(`"v5"`), stale, nil, firstWrite); err != nil {
			t.Fatal(err)
		}
		ops := []*dapr.StateOperation{
			{Type: dapr.StateOperationTypeUpsert, Item: &dapr.SetStateItem{Key: other, Value: []byte(`"x"`),
				Options: &dapr.StateOptions{Concurrency: dapr.StateConcurrencyFirstWrite}}},
			{Type: dapr.StateOperationTypeUpsert, Item: &dapr.SetStateItem{Key: key, Value: []byte(`"v6"`), Etag: &dapr.ETag{Value: stale},
				Options: &dapr.StateOptions{Concurrency: dapr.StateConcurrencyFirstWrite}}},
		}
		// Run on inventorysvc's store: the fact holds for the component
		// type, whichever app's store it is.
		inv, err := dapr.NewClientWithAddressContext(ctx, sys.SidecarGRPC("inventorysvc"))
		if err != nil {
			t.Fatal(err)
		}
		defer inv.Close()
		inv.WithAuthToken(sys.SidecarToken("inventorysvc"))
		const invStore = "inventory-state"
		if err := inv.SaveState(ctx, invStore, key, []byte(`"v5"`), nil); err != nil {
			t.Fatal(err)
		}
		got, err := inv.GetState(ctx, invStore, key, nil)
		if err != nil {
			t.Fatal(err)
		}
		stale = got.Etag
		if err := inv.SaveStateWithETag(ctx, invStore, key, []byte(`"v5b"`), stale, nil, firstWrite); err != nil {
			t.Fatal(err)
		}
		ops[1].Item.Etag = &dapr.ETag{Value: stale}
		err = inv.ExecuteStateTransaction(ctx, invStore, nil, ops)
		if !daprstate.IsConflict(err) {
			t.Errorf("transaction with a stale ETag = %v; want a conflict", err)
		}
		got, err = inv.GetState(ctx, invStore, other, nil)
		if err != nil {
			t.Fatal(err)
		}
		rolledBack := len(got.Value) == 0
		if want := sys.Profile() != "redis"; rolledBack != want {
			t.Errorf("failed transaction rolled back = %v (other key holds %q); want %v on profile %s", rolledBack, got.Value, want, sys.Profile())
		}
	})

	t.Run("concurrent inserts: exactly one wins", func(t *testing.T) {
		race := key + "-race"
		var wins, conflicts atomic.Int32
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := client.SaveState(ctx, store, race, []byte(fmt.Sprintf(`"%d"`, i)), nil, firstWrite)
				switch {
				case err == nil:
					wins.Add(1)
				case daprstate.IsConflict(err):
					conflicts.Add(1)
				default:
					t.Errorf("insert %d: %v (not a conflict)", i, err)
				}
			}()
		}
		wg.Wait()
		if wins.Load() != 1 || conflicts.Load() != 19 {
			t.Errorf("%d wins, %d conflicts; want 1 and 19", wins.Load(), conflicts.Load())
		}
	})
}

// The store adapters' contract suites (TestContractSidecar in each
// adapter's package) against this profile's real sidecars: each runs as a
// test binary of its own module, told the sidecar's gRPC address and the
// component (platform/daprstate/daprstatetest.Sidecar).
func TestStoreAdapterContracts(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	adapters := []struct{ pkg, svc, store string }{
		{"shop/inventorysvc/internal/inventorystore", "inventorysvc", "inventory-state"},
		{"shop/usersvc/internal/userstore", "usersvc", "users-state"},
	}
	for _, a := range adapters {
		t.Run(a.pkg, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, "go", "test", "-count=1", "-v", "-run", "^TestContractSidecar$", a.pkg)
			cmd.Dir = root
			cmd.Env = append(os.Environ(),
				daprstatetest.EnvSidecar+"="+sys.SidecarGRPC(a.svc),
				daprstatetest.EnvStore+"="+a.store,
				// The Dapr client reads its sidecar's token from here.
				"DAPR_API_TOKEN="+sys.SidecarToken(a.svc))
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("contract suite of %s on %s's sidecar (%s): %v\n%s", a.pkg, a.svc, sys.Profile(), err, out)
			}
			// A suite that skipped did not run against the sidecar.
			if !strings.Contains(string(out), "--- PASS: TestContractSidecar") || strings.Contains(string(out), "--- SKIP") {
				t.Fatalf("contract suite of %s did not run against the sidecar:\n%s", a.pkg, out)
			}
			t.Logf("%s on %s", a.pkg, sys.Profile())
		})
	}
}
