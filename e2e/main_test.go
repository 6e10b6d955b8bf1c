// Package e2e drives a whole running system (real daprd sidecars, the
// services, the profile's infrastructure) through the gateway sidecar, as a
// client would. One system serves every test of the package; tests stay
// independent by creating their own users, products and orders.
//
// Run: go test ./e2e/...           (profile from $E2E_PROFILE, default local)
package e2e

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"shop/e2e/harness"
)

var sys *harness.System

func TestMain(m *testing.M) {
	// Every sidecar and app exports its spans to this package's receiver
	// (TestOrderIsOneTrace).
	collector, stopCollector, err := startCollector()
	if err != nil {
		fmt.Fprintln(os.Stderr, "start the OTLP receiver:", err)
		os.Exit(1)
	}
	// A short saga timeout, so that TestSagaTimeout ends in a minute.
	s, err := harness.Start(context.Background(), harness.Options{Env: map[string]string{"SAGA_TIMEOUT": sagaTimeout.String()},
		OTLPEndpoint: collector})
	if err != nil {
		fmt.Fprintln(os.Stderr, "start the system:", err)
		os.Exit(1)
	}
	sys = s
	code := m.Run()
	if code != 0 {
		fmt.Fprint(os.Stderr, s.Logs())
	}
	s.Stop()
	stopCollector()
	os.Exit(code)
}

// sagaTimeout is how long an order may stay pending in this system.
const sagaTimeout = 60 * time.Second
