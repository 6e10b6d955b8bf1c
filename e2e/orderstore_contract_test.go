package e2e

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"shop/platform/daprstate/daprstatetest"
)

// TestOrderStoreContract runs the contract suites of ordersvc's store
// adapters (orderstore, payment) against this profile's real sidecar: the
// suites live next to the adapters (internal packages, which this module
// cannot import) and run here with the sidecar's address.
func TestOrderStoreContract(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(context.Background(), "go", "test", "-count=1", "-v", "-run", "^TestContractSidecar$",
		"./ordersvc/internal/orderstore/", "./ordersvc/internal/payment/")
	cmd.Dir = root
	cmd.Env = append(cmd.Environ(),
		daprstatetest.EnvSidecar+"="+sys.SidecarGRPC("ordersvc"),
		daprstatetest.EnvStore+"=orders-state",
		// The Dapr client reads its sidecar's token from here.
		"DAPR_API_TOKEN="+sys.SidecarToken("ordersvc"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("contract suites on profile %s: %v\n%s", sys.Profile(), err, out)
	}
	// Both packages ran the suite on the sidecar; neither skipped it.
	if n := strings.Count(string(out), "\n--- PASS: TestContractSidecar "); n != 2 || strings.Contains(string(out), "--- SKIP") {
		t.Fatalf("contract suites on profile %s: %d passed; want 2\n%s", sys.Profile(), n, out)
	}
	t.Logf("profile %s:\n%s", sys.Profile(), out)
}
