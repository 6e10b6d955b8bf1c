// Package faults runs the shop with replicas (three of ordersvc, two of
// inventorysvc and usersvc) and breaks it while orders come in: a service
// down, the broker cut off, a flaky payment provider, a rolling restart.
// Each test asserts what a client sees and that no order is lost or
// doubled. It needs a durable profile (redis or postgres-rabbitmq): on the
// local profile state lives in one sidecar's memory, so a stateful app
// cannot have replicas.
//
// Run: E2E_PROFILE=redis go test ./e2e/faults/
package faults

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"shop/e2e/harness"
)

var sys *harness.System

// replicas of each service in this package's system.
var replicas = map[string]int{"ordersvc": 3, "inventorysvc": 2, "usersvc": 2}

func TestMain(m *testing.M) {
	switch p := os.Getenv("E2E_PROFILE"); p {
	case "redis", "postgres-rabbitmq":
	default:
		fmt.Fprintf(os.Stderr, "faults: profile %q keeps state in a sidecar or a broker in the test process; run on redis or postgres-rabbitmq\n", p)
		os.Exit(0)
	}
	s, err := harness.Start(context.Background(), harness.Options{
		Replicas:    replicas,
		BrokerProxy: true,
		// One test client sends every order: the gateway's per-client
		// limit would answer it 429.
		GatewayRateLimit: 100000,
		Env:              map[string]string{"SAGA_TIMEOUT": sagaTimeout.String()},
	})
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
	os.Exit(code)
}

// sagaTimeout is how long an order may stay pending in this system: longer
// than any outage here, so that an outage delays orders and cancels none.
const sagaTimeout = 2 * time.Minute
