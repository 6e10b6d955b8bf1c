package faults

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"shop/e2e/harness"
)

// down stops every replica of svc and its sidecars, as if all its pods
// were gone, and returns the function that starts them again.
func down(t *testing.T, svc string) (up func()) {
	t.Helper()
	ctx := context.Background()
	if err := sys.Kill(svc); err != nil {
		t.Fatal(err)
	}
	if err := sys.Kill(svc + "-dapr"); err != nil {
		t.Fatal(err)
	}
	restarted := false
	up = func() {
		if restarted {
			return
		}
		restarted = true
		if err := sys.Restart(ctx, svc+"-dapr"); err != nil {
			t.Fatalf("restart %s sidecars: %v", svc, err)
		}
		if err := sys.Restart(ctx, svc); err != nil {
			t.Fatalf("restart %s: %v", svc, err)
		}
	}
	t.Cleanup(up)
	return up
}

// timed sends req and returns the answer and how long it took.
func timed(t *testing.T, req harness.Request) (*harness.Response, time.Duration) {
	t.Helper()
	start := time.Now()
	resp := do(t, req)
	return resp, time.Since(start)
}

// TestUsersvcDown: with every usersvc replica gone, a signed-in customer
// browses the catalog, places orders and reads them (ordersvc and
// inventorysvc verify tokens with the signing keys they cached); signing
// in answers 503 problem details at once. When usersvc returns, signing in
// works again with no restart of the others.
func TestUsersvcDown(t *testing.T) {
	admin := adminToken(t)
	email, token := newCustomer(t)
	sku := newProduct(t, admin, 10)
	// Every replica verifies a token once, so that each has the keys.
	for range 12 {
		if resp := do(t, harness.Request{Method: http.MethodGet, Service: "ordersvc", Path: "/orders", Header: bearer(token)}); resp.Status != http.StatusOK {
			t.Fatalf("GET /orders = %d %s", resp.Status, resp.Body)
		}
	}
	up := down(t, "usersvc")

	var longest time.Duration
	resp, took := timed(t, harness.Request{Method: http.MethodGet, Service: "inventorysvc", Path: "/products"})
	longest = max(longest, took)
	if resp.Status != http.StatusOK {
		t.Errorf("usersvc down: GET /products = %d %s; want 200", resp.Status, resp.Body)
	}
	orders := map[string]string{}
	for range 6 {
		resp, took := timed(t, harness.Request{Method: http.MethodPost, Service: "ordersvc", Path: "/orders", Body: orderBody(sku, 1), Header: bearer(token)})
		longest = max(longest, took)
		var o orderView
		if resp.Status != http.StatusAccepted || resp.JSON(&o) != nil {
			t.Fatalf("usersvc down: POST /orders = %d %s; want 202", resp.Status, resp.Body)
		}
		orders[o.ID] = token
	}
	final := awaitTerminal(t, orders, time.Minute)
	checkOutcome(t, sku, 10, final)
	resp, took = timed(t, harness.Request{Method: http.MethodGet, Service: "ordersvc", Path: "/orders", Header: bearer(token)})
	longest = max(longest, took)
	if resp.Status != http.StatusOK {
		t.Errorf("usersvc down: GET /orders = %d %s; want 200", resp.Status, resp.Body)
	}
	login := harness.Request{Method: http.MethodPost, Service: "usersvc", Path: "/auth/token", Body: map[string]string{"email": email, "password": password}, NoRetry: true}
	resp, took = timed(t, login)
	t.Logf("usersvc down: catalog, 6 orders and their reads answered, longest %v; login answered %d in %v: %s", longest.Round(time.Millisecond), resp.Status, took.Round(time.Millisecond), resp.Body)
	if !isProblem(resp, http.StatusServiceUnavailable) || resp.Header.Get("Retry-After") == "" {
		t.Errorf("usersvc down: login = %d %q (Retry-After %q); want 503 problem details with Retry-After", resp.Status, resp.Body, resp.Header.Get("Retry-After"))
	}
	// A bound, not a speed target: daprd's own retries would take 3 s.
	if took >= 2*time.Second {
		t.Errorf("usersvc down: login answered in %v; want under 2s", took.Round(time.Millisecond))
	}

	up()
	err := harness.Eventually(context.Background(), 30*time.Second, func() error {
		resp := do(t, login)
		if resp.Status != http.StatusOK {
			return &statusError{resp}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("usersvc back: login: %v", err)
	}
}

type statusError struct{ resp *harness.Response }

func (e *statusError) Error() string {
	return http.StatusText(e.resp.Status) + ": " + string(e.resp.Body)
}

// TestInventorysvcDown: with every inventorysvc replica gone, POST /orders
// answers 503 problem details with Retry-After, quickly (ordersvc cannot
// price the lines; the circuit breaker of the Resiliency resource stops
// the calls), and orders accepted just before complete once it returns:
// none lost, none doubled.
func TestInventorysvcDown(t *testing.T) {
	admin := adminToken(t)
	_, token := newCustomer(t)
	// Enough for every order accepted while the breakers close again.
	const stock = 100
	sku := newProduct(t, admin, stock)
	accepted := map[string]string{}
	place := func() (*harness.Response, time.Duration) {
		return timed(t, harness.Request{Method: http.MethodPost, Service: "ordersvc", Path: "/orders", Body: orderBody(sku, 1), Header: bearer(token)})
	}
	for range 5 {
		resp, _ := place()
		var o orderView
		if resp.Status != http.StatusAccepted || resp.JSON(&o) != nil {
			t.Fatalf("POST /orders = %d %s", resp.Status, resp.Body)
		}
		accepted[o.ID] = token
	}
	up := down(t, "inventorysvc")

	// Customers keep ordering: 24 at once, eight per ordersvc replica. Each
	// sidecar's breaker opens after 16 failed tries in a row (four calls
	// with their retries).
	type answer struct {
		resp *harness.Response
		err  error
		took time.Duration
	}
	answers := make([]answer, 24)
	var wg sync.WaitGroup
	for i := range answers {
		wg.Go(func() {
			start := time.Now()
			resp, err := sys.Do(context.Background(), harness.Request{Method: http.MethodPost, Service: "ordersvc", Path: "/orders", Body: orderBody(sku, 1), Header: bearer(token)})
			answers[i] = answer{resp, err, time.Since(start)}
		})
	}
	wg.Wait()
	var longest time.Duration
	var tooSlow []time.Duration
	for i, a := range answers {
		if a.err != nil {
			t.Fatalf("inventorysvc down: POST /orders %d: %v", i, a.err)
		}
		longest = max(longest, a.took)
		if !isProblem(a.resp, http.StatusServiceUnavailable) || a.resp.Header.Get("Retry-After") == "" {
			t.Errorf("inventorysvc down: POST /orders %d = %d %s (Retry-After %q); want 503 problem details with Retry-After", i, a.resp.Status, a.resp.Body, a.resp.Header.Get("Retry-After"))
		}
		if a.took > 10*time.Second {
			tooSlow = append(tooSlow, a.took)
		}
	}
	if len(tooSlow) > 0 {
		t.Errorf("inventorysvc down: %d answers took over 10s (%v); want every one bounded", len(tooSlow), tooSlow)
	}
	// Once the breaker is open, refusals are immediate.
	resp, took := place()
	if !isProblem(resp, http.StatusServiceUnavailable) || took > time.Second {
		t.Errorf("inventorysvc down, breaker open: POST /orders = %d in %v; want 503 in under a second", resp.Status, took)
	}
	t.Logf("inventorysvc down: 25 POST /orders answered 503 problem with Retry-After; longest %v, last %v", longest.Round(time.Millisecond), took.Round(time.Millisecond))

	up()
	// Each ordersvc sidecar has its own breaker, which lets a call through
	// after its timeout (15s): until then that replica still refuses. Wait
	// until a run of orders in a row is accepted, by every replica.
	inARow := 0
	err := harness.Eventually(context.Background(), time.Minute, func() error {
		resp, _ := place()
		var o orderView
		if resp.Status != http.StatusAccepted || resp.JSON(&o) != nil {
			inARow = 0
			return &statusError{resp}
		}
		accepted[o.ID] = token
		if inARow++; inARow < 3*replicas["ordersvc"] {
			return fmt.Errorf("%d orders accepted in a row", inARow)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("inventorysvc back: POST /orders: %v", err)
	}
	final := awaitTerminal(t, accepted, 2*time.Minute)
	checkOutcome(t, sku, stock, final)
	checkChargedOnce(t, final)
}

// TestBrokerOutage cuts every sidecar off the pub/sub server for ten
// seconds while orders come in at a steady rate (through the harness's
// proxy: the Redis and RabbitMQ servers are shared with other runs and
// cannot be stopped here). Orders are still accepted (their events wait
// in the order records, our outbox); once the broker is back the sweeps of
// every ordersvc replica relay them at once, and every accepted order ends
// confirmed, its stock sold once and its card charged once.
func TestBrokerOutage(t *testing.T) {
	// On postgres-rabbitmq this is the test of tools/daprd/pubsubpersub:
	// the released pubsub.rabbitmq shares one AMQP channel among a
	// sidecar's subscriptions, which race each other when they register
	// again after the cut and leave deliveries unacknowledged for good
	// (dapr/components-contrib#4540; in CI on 2026-12-02, 51 of 100 orders
	// were cancelled by the saga timeout).
	admin := adminToken(t)
	_, token := newCustomer(t)
	const stock = 1000
	sku := newProduct(t, admin, stock)
	relayedBefore := relays(t)
	load := newShopper(sku, token, 5)
	load.run()
	waitFor(5 * time.Second)
	sys.Broker.Down()
	waitFor(10 * time.Second)
	sys.Broker.Up()
	waitFor(5 * time.Second)
	final := load.settle(t, stock)
	relayed := relays(t)
	for name := range relayed {
		relayed[name] -= relayedBefore[name]
	}
	t.Logf("%d orders, all confirmed; events relayed by each ordersvc replica's sweep: %v", len(final), relayed)
}

// relays sums the "relayed" counts of the sweeps per ordersvc replica.
func relays(t *testing.T) map[string]int {
	out := map[string]int{}
	for _, line := range logLines(t, "ordersvc") {
		if n, ok := line["relayed"].(float64); ok {
			out[line["replica"].(string)] += int(n)
		}
	}
	return out
}

// waitFor lets d pass while the load runs.
func waitFor(d time.Duration) { <-time.After(d) }

// TestFlakyPaymentProvider: half the charges fail (before the charge, or
// after it with the answer lost). Every order still confirms, charged
// exactly once: the delivery of inventory.reserved is retried and the
// provider's ledger records one charge per order.
func TestFlakyPaymentProvider(t *testing.T) {
	ctx := context.Background()
	t.Cleanup(func() {
		if err := sys.RestartWith(ctx, "ordersvc", map[string]string{"PAYMENT_FAILURES": ""}); err != nil {
			t.Errorf("restart ordersvc with a reliable provider: %v", err)
		}
	})
	if err := sys.RestartWith(ctx, "ordersvc", map[string]string{"PAYMENT_FAILURES": "0.5"}); err != nil {
		t.Fatal(err)
	}
	admin := adminToken(t)
	_, token := newCustomer(t)
	const n = 20
	sku := newProduct(t, admin, n)
	orders := placeOrders(t, token, sku, n)
	final := awaitTerminal(t, orders, 2*time.Minute)
	checkOutcome(t, sku, n, final)
	checkChargedOnce(t, final)
	failed := 0
	for _, line := range logLines(t, "ordersvc") {
		for _, v := range line {
			if s, ok := v.(string); ok && strings.Contains(s, "payment provider unavailable") {
				failed++
				break
			}
		}
	}
	if failed == 0 {
		t.Error("no charge failed: the provider's failure switch did not take effect")
	}
	t.Logf("%d orders confirmed, each charged once; %d failed charge attempts logged", n, failed)
}
