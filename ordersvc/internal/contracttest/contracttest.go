// Package contracttest gives the store adapters' contract suites their
// stores: the fake state API, and, when the end-to-end suite names one, a
// real sidecar of the profile under test.
package contracttest

import (
	"testing"

	"shop/platform/daprstate"
	"shop/platform/daprstate/daprstatetest"
)

// Store is the orders state store on which the contract of the test runs.
const Store = "orders-state"

// Fake returns a store on the fake state API.
func Fake() *daprstate.Store { return daprstate.New(daprstatetest.New(), Store) }

// Sidecar returns a store through the sidecar that the end-to-end suite
// names (daprstatetest.EnvSidecar), and skips the test when it names none.
func Sidecar(t *testing.T) *daprstate.Store {
	t.Helper()
	c := daprstatetest.Sidecar(t, Store)
	return daprstate.New(c.Client, c.Name)
}
