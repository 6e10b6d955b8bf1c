package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"shop/e2e/harness"
)

// How long the saga's events may take to be handled: the first ones wait
// for the inventory's consumer group to join.
const eventTimeout = 60 * time.Second

// runID keeps this run's SKUs and order ids apart from any other run's.
var (
	runID  = strconv.FormatInt(time.Now().UnixNano()%1e9, 36)
	serial atomic.Int64
)

func uniqueID(prefix string) string {
	return fmt.Sprintf("%s%s%d", prefix, strings.ToUpper(runID), serial.Add(1))
}

func call(t *testing.T, req harness.Request) *harness.Response {
	t.Helper()
	resp, err := sys.Do(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// newProduct creates a fresh product with stock units and returns its SKU.
func newProduct(t *testing.T, stock int64) string {
	t.Helper()
	sku := uniqueID("E2E-")
	resp := call(t, harness.Request{Method: http.MethodPost, Service: "inventorysvc", Path: "/products", Header: bearer(adminToken(t)),
		Body: map[string]any{"sku": sku, "name": "Test product " + sku, "price_cents": 1250, "stock": stock}})
	if resp.Status != http.StatusCreated {
		t.Fatalf("POST /products %s = %d %s; want 201", sku, resp.Status, resp.Body)
	}
	return sku
}

func getProduct(t *testing.T, sku string) product {
	t.Helper()
	resp := call(t, harness.Request{Method: http.MethodGet, Service: "inventorysvc", Path: "/products/" + sku})
	if resp.Status != http.StatusOK {
		t.Fatalf("GET /products/%s = %d %s; want 200", sku, resp.Status, resp.Body)
	}
	var p product
	if err := resp.JSON(&p); err != nil {
		t.Fatal(err)
	}
	return p
}

// checkStock asserts what a shopper and an admin see of a product.
func checkStock(t *testing.T, sku string, available, reserved, sold int64) {
	t.Helper()
	p := getProduct(t, sku)
	if p.Available != available || p.Reserved != reserved || p.Sold != sold {
		t.Errorf("%s: available %d, reserved %d, sold %d; want %d, %d, %d", sku, p.Available, p.Reserved, p.Sold, available, reserved, sold)
	}
}

type reservation struct {
	OrderID    string `json:"order_id"`
	Status     string `json:"status"`
	Outcome    string `json:"outcome"`
	Lines      []line `json:"lines"`
	Rejections []struct {
		SKU    string `json:"sku"`
		Reason string `json:"reason"`
	} `json:"rejections"`
}

type line struct {
	SKU      string `json:"sku"`
	Quantity int64  `json:"quantity"`
}

// getReservation returns what the inventory did for an order, or nil when
// it has not seen the order yet.
func getReservation(t *testing.T, orderID string) (*reservation, error) {
	resp, err := sys.Do(context.Background(), harness.Request{Method: http.MethodGet, Service: "inventorysvc",
		Path: "/reservations/" + orderID, Header: bearer(adminToken(t))})
	if err != nil {
		return nil, err
	}
	switch resp.Status {
	case http.StatusNotFound:
		return nil, nil
	case http.StatusOK:
		var r reservation
		return &r, resp.JSON(&r)
	}
	return nil, fmt.Errorf("GET /reservations/%s = %d %s", orderID, resp.Status, resp.Body)
}

// waitReservation polls until the order's reservation satisfies done.
func waitReservation(t *testing.T, orderID string, done func(r *reservation) bool) *reservation {
	t.Helper()
	var last *reservation
	err := harness.Eventually(context.Background(), eventTimeout, func() error {
		r, err := getReservation(t, orderID)
		if err != nil {
			return err
		}
		last = r
		if r == nil || !done(r) {
			return fmt.Errorf("reservation of %s is %+v", orderID, r)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return last
}

func hasStatus(status string) func(r *reservation) bool {
	return func(r *reservation) bool { return r.Status == status }
}

// Order events as ordersvc publishes them (docs/events.md).
func orderCreated(orderID string, lines ...line) map[string]any {
	items := make([]map[string]any, 0, len(lines))
	var total int64
	for _, l := range lines {
		items = append(items, map[string]any{"sku": l.SKU, "quantity": l.Quantity, "unit_price_cents": 1250})
		total += 1250 * l.Quantity
	}
	return map[string]any{"type": "order.created", "order_id": orderID, "user_id": "u-e2e", "items": items,
		"total_cents": total, "created_at": time.Now().UTC().Format(time.RFC3339)}
}

func orderConfirmed(orderID string) map[string]any {
	return map[string]any{"type": "order.confirmed", "order_id": orderID}
}

func orderCancelled(orderID string) map[string]any {
	return map[string]any{"type": "order.cancelled", "order_id": orderID, "reason": "customer"}
}

func publish(t *testing.T, events ...map[string]any) {
	t.Helper()
	for _, e := range events {
		if err := sys.Publish(context.Background(), "orders", e); err != nil {
			t.Fatal(err)
		}
	}
}

func TestOrderCreatedReservesStock(t *testing.T) {
	sku := newProduct(t, 5)
	order := uniqueID("o-")
	publish(t, orderCreated(order, line{sku, 2}))
	r := waitReservation(t, order, hasStatus("reserved"))
	if r.Outcome != "reserved" || len(r.Lines) != 1 || r.Lines[0] != (line{sku, 2}) {
		t.Errorf("reservation = %+v; want 2 of %s reserved", r, sku)
	}
	checkStock(t, sku, 3, 2, 0)
}

func TestOrderRejectedReservesNothing(t *testing.T) {
	plenty, scarce := newProduct(t, 5), newProduct(t, 1)
	unknown := uniqueID("NOPE-")
	tests := []struct {
		name   string
		lines  []line
		reason map[string]string
	}{
		{"out of stock", []line{{plenty, 2}, {scarce, 2}}, map[string]string{scarce: "out_of_stock"}},
		{"unknown product", []line{{plenty, 1}, {unknown, 1}}, map[string]string{unknown: "unknown_product"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			order := uniqueID("o-")
			publish(t, orderCreated(order, tt.lines...))
			r := waitReservation(t, order, hasStatus("rejected"))
			got := map[string]string{}
			for _, rej := range r.Rejections {
				got[rej.SKU] = rej.Reason
			}
			if r.Outcome != "rejected" || fmt.Sprint(got) != fmt.Sprint(tt.reason) {
				t.Errorf("reservation = %+v; want rejected with %v", r, tt.reason)
			}
			checkStock(t, plenty, 5, 0, 0)
			checkStock(t, scarce, 1, 0, 0)
		})
	}
}

func TestOrderCancelledReleasesStock(t *testing.T) {
	sku := newProduct(t, 5)
	order := uniqueID("o-")
	publish(t, orderCreated(order, line{sku, 3}))
	waitReservation(t, order, hasStatus("reserved"))
	publish(t, orderCancelled(order))
	waitReservation(t, order, hasStatus("released"))
	checkStock(t, sku, 5, 0, 0)
}

func TestOrderConfirmedSellsStock(t *testing.T) {
	sku := newProduct(t, 5)
	order := uniqueID("o-")
	publish(t, orderCreated(order, line{sku, 2}))
	waitReservation(t, order, hasStatus("reserved"))
	publish(t, orderConfirmed(order))
	waitReservation(t, order, hasStatus("committed"))
	checkStock(t, sku, 3, 0, 2)
	// A confirmed order that is cancelled is refunded: the units come back.
	publish(t, orderCancelled(order))
	waitReservation(t, order, hasStatus("released"))
	checkStock(t, sku, 5, 0, 0)
}

// TestDuplicateOrderCreatedReservesOnce delivers one order.created three
// times: each delivery is answered (the inventory's published outcomes
// count three more), and the order is reserved once.
func TestDuplicateOrderCreatedReservesOnce(t *testing.T) {
	sku := newProduct(t, 10)
	order := uniqueID("o-")
	created := orderCreated(order, line{sku, 2})
	before := metrics(t)
	publish(t, created, created, created)
	waitMetric(t, metricPublished, before[metricPublished]+3)
	r := waitReservation(t, order, hasStatus("reserved"))
	if r.Outcome != "reserved" {
		t.Errorf("reservation = %+v; want reserved", r)
	}
	checkStock(t, sku, 8, 2, 0)
}

// TestCancelledBeforeCreatedReservesNothing delivers an order's events out
// of order: its order.created arrives after its order.cancelled and must
// not leave stock reserved for an order that no longer exists.
func TestCancelledBeforeCreatedReservesNothing(t *testing.T) {
	sku := newProduct(t, 4)
	order := uniqueID("o-")
	// Events of one order may travel on different partitions: wait until
	// the cancellation is recorded before the creation is sent.
	publish(t, orderCancelled(order))
	waitReservation(t, order, hasStatus("released"))
	publish(t, orderCreated(order, line{sku, 2}))
	r := waitReservation(t, order, func(r *reservation) bool { return r.Outcome != "" })
	if r.Status != "released" || r.Outcome != "rejected" || len(r.Rejections) != 1 || r.Rejections[0].Reason != "order_cancelled" {
		t.Errorf("reservation = %+v; want released, answered rejected with order_cancelled", r)
	}
	checkStock(t, sku, 4, 0, 0)
}

func TestAdminCreatesAndRestocksProducts(t *testing.T) {
	admin := adminToken(t)
	_, customer := newCustomer(t)
	sku := uniqueID("ADM-")
	body := map[string]any{"sku": sku, "name": "  Desk lamp ", "price_cents": 4599, "stock": 3}
	create := func(token string, body any) *harness.Response {
		h := http.Header{}
		if token != "" {
			h = bearer(token)
		}
		return call(t, harness.Request{Method: http.MethodPost, Service: "inventorysvc", Path: "/products", Header: h, Body: body})
	}

	checkProblem(t, "POST /products without a token", create("", body), http.StatusUnauthorized, "")
	checkProblem(t, "POST /products as a customer", create(customer, body), http.StatusForbidden, "")
	if resp := call(t, harness.Request{Method: http.MethodGet, Service: "inventorysvc", Path: "/products/" + sku}); resp.Status != http.StatusNotFound {
		t.Fatalf("a refused create made the product: GET = %d", resp.Status)
	}

	resp := create(admin, body)
	if resp.Status != http.StatusCreated || resp.Header.Get("Location") != "/products/"+sku {
		t.Fatalf("POST /products as admin = %d %s, Location %q; want 201 /products/%s", resp.Status, resp.Body, resp.Header.Get("Location"), sku)
	}
	var p product
	if err := resp.JSON(&p); err != nil || p.Name != "Desk lamp" || p.PriceCents != 4599 || p.Available != 3 {
		t.Errorf("created product = %+v, %v; want the trimmed name and 3 available", p, err)
	}
	checkProblem(t, "POST /products again", create(admin, body), http.StatusConflict, "")
	checkProblem(t, "POST /products bad price", create(admin, map[string]any{"sku": uniqueID("ADM-"), "name": "x", "price_cents": 0, "stock": 1}), http.StatusBadRequest, "price_cents")
	checkProblem(t, "POST /products unknown field", create(admin, map[string]any{"sku": uniqueID("ADM-"), "name": "x", "price_cents": 1, "stock": 1, "colour": "red"}), http.StatusBadRequest, "colour")

	restock := func(token string, quantity any) *harness.Response {
		h := http.Header{}
		if token != "" {
			h = bearer(token)
		}
		return call(t, harness.Request{Method: http.MethodPost, Service: "inventorysvc", Path: "/products/" + sku + "/restock", Header: h,
			Body: map[string]any{"quantity": quantity}})
	}
	checkProblem(t, "restock without a token", restock("", 5), http.StatusUnauthorized, "")
	checkProblem(t, "restock as a customer", restock(customer, 5), http.StatusForbidden, "")
	checkProblem(t, "restock of nothing", restock(admin, 0), http.StatusBadRequest, "quantity")
	resp = restock(admin, 5)
	if err := resp.JSON(&p); resp.Status != http.StatusOK || err != nil || p.Available != 8 {
		t.Errorf("restock = %d %s; want 200 with 8 available", resp.Status, resp.Body)
	}
	checkStock(t, sku, 8, 0, 0)
}

func TestLookupPricesManyProducts(t *testing.T) {
	a, b := newProduct(t, 2), newProduct(t, 0)
	missing := uniqueID("NOPE-")
	resp := call(t, harness.Request{Method: http.MethodPost, Service: "inventorysvc", Path: "/products/lookup",
		Body: map[string]any{"skus": []string{b, missing, a}}})
	var got struct {
		Products []struct {
			SKU        string `json:"sku"`
			PriceCents int64  `json:"price_cents"`
			Available  int64  `json:"available"`
		} `json:"products"`
		Missing []string `json:"missing"`
	}
	if err := resp.JSON(&got); resp.Status != http.StatusOK || err != nil {
		t.Fatalf("lookup = %d %s; want 200", resp.Status, resp.Body)
	}
	want := fmt.Sprintf("[{%s 1250 0} {%s 1250 2}] [%s]", b, a, missing)
	if s := fmt.Sprintf("%v %v", got.Products, got.Missing); s != want {
		t.Errorf("lookup = %s; want %s", s, want)
	}
	checkProblem(t, "lookup of a bad sku", call(t, harness.Request{Method: http.MethodPost, Service: "inventorysvc", Path: "/products/lookup",
		Body: map[string]any{"skus": []string{"bad sku"}}}), http.StatusBadRequest, "skus[0]")
}

// metrics reads the inventory's own counters (inventory_*; the service's
// other metrics, such as Go's, are left out).
func metrics(t *testing.T) map[string]int64 {
	t.Helper()
	resp := call(t, harness.Request{Method: http.MethodGet, Service: "inventorysvc", Path: "/metrics"})
	if resp.Status != http.StatusOK {
		t.Fatalf("GET /metrics = %d %s", resp.Status, resp.Body)
	}
	out := map[string]int64{}
	sc := bufio.NewScanner(bytes.NewReader(resp.Body))
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok || !strings.HasPrefix(name, "inventory_") {
			continue
		}
		n, err := strconv.ParseInt(value, 10, 64)
		if err != nil {
			t.Fatalf("metric line %q: %v", sc.Text(), err)
		}
		out[name] = n
	}
	return out
}

const (
	metricReserved  = `inventory_reservations_total{status="reserved"}`
	metricRejected  = `inventory_reservations_total{status="rejected"}`
	metricConflicts = "inventory_conflicts_retried_total"
	metricExhausted = "inventory_conflicts_exhausted_total"
	metricPublished = "inventory_outcomes_published_total"
)

// waitMetric polls the metrics until name reaches at least want.
func waitMetric(t *testing.T, name string, want int64) map[string]int64 {
	t.Helper()
	var m map[string]int64
	err := harness.Eventually(context.Background(), eventTimeout, func() error {
		m = metrics(t)
		if m[name] < want {
			return fmt.Errorf("%s = %d; want %d", name, m[name], want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// publishConcurrently publishes events from workers goroutines at once and
// returns when all are accepted by the broker.
func publishConcurrently(t *testing.T, workers int, events []map[string]any) {
	t.Helper()
	next := atomic.Int64{}
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if int(i) >= len(events) {
					return
				}
				if err := sys.Publish(context.Background(), "orders", events[i]); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// waitDecisions polls the metrics until n more order.created events have
// been decided and answered than in before, and returns the metrics then.
func waitDecisions(t *testing.T, before map[string]int64, n int64) map[string]int64 {
	t.Helper()
	deadline := time.Now().Add(eventTimeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		m := metrics(t)
		done := m[metricReserved] + m[metricRejected] - before[metricReserved] - before[metricRejected]
		if done >= n && m[metricPublished]-before[metricPublished] >= n {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v only %d of %d orders were decided", eventTimeout, done, n)
		}
		<-tick.C
	}
}

// reservations reads the reservations of orders with a few workers.
func reservations(t *testing.T, orders []string) map[string]*reservation {
	t.Helper()
	out := make(map[string]*reservation, len(orders))
	var mu sync.Mutex
	var wg sync.WaitGroup
	next := atomic.Int64{}
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if int(i) >= len(orders) {
					return
				}
				r, err := getReservation(t, orders[i])
				if err != nil || r == nil {
					t.Errorf("reservation of %s: %+v, %v", orders[i], r, err)
					continue
				}
				mu.Lock()
				out[orders[i]] = r
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return out
}

// TestConcurrentOrdersNeverOversell: 200 orders of one unit each arrive at
// once for a product with 50 in stock. Exactly 50 are reserved, 150 are
// rejected, and the stock adds up.
func TestConcurrentOrdersNeverOversell(t *testing.T) {
	const stock, orders = 50, 200
	sku := newProduct(t, stock)
	ids := make([]string, orders)
	events := make([]map[string]any, orders)
	for i := range ids {
		ids[i] = uniqueID("c-")
		events[i] = orderCreated(ids[i], line{sku, 1})
	}
	before := metrics(t)
	start := time.Now()
	publishConcurrently(t, 16, events)
	after := waitDecisions(t, before, orders)
	elapsed := time.Since(start)

	reserved, rejected := 0, 0
	for id, r := range reservations(t, ids) {
		switch {
		case r.Status == "reserved":
			reserved++
		case r.Status == "rejected" && len(r.Rejections) == 1 && r.Rejections[0].Reason == "out_of_stock":
			rejected++
		default:
			t.Errorf("order %s: %+v; want reserved, or rejected out_of_stock", id, r)
		}
	}
	if reserved != stock || rejected != orders-stock {
		t.Errorf("%d reserved, %d rejected; want %d and %d", reserved, rejected, stock, orders-stock)
	}
	p := getProduct(t, sku)
	if p.Available != 0 || p.Reserved != stock || p.Sold != 0 || p.Available+p.Reserved+p.Sold != stock {
		t.Errorf("%s = %+v; want 0 available, %d reserved: received %d == available + reserved + sold", sku, p, stock, stock)
	}
	t.Logf("%d order.created events decided in %v: %.0f reservations/s (publishing included); conflicts retried: %d, operations that gave up on conflicts: %d",
		orders, elapsed.Round(time.Millisecond), float64(orders)/elapsed.Seconds(), after[metricConflicts]-before[metricConflicts],
		after[metricExhausted]-before[metricExhausted])
}

// TestConcurrentMultiLineOrdersAndRestocks: orders of two or three lines
// across four products arrive at once while admins restock the same
// products, so that event handlers and API writes race for the same keys.
// Every product's stock must add up and match the reservations exactly.
func TestConcurrentMultiLineOrdersAndRestocks(t *testing.T) {
	const orders, stock, restocks = 150, 40, 40
	skus := []string{newProduct(t, stock), newProduct(t, stock), newProduct(t, stock), newProduct(t, stock)}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	ids := make([]string, orders)
	events := make([]map[string]any, orders)
	for i := range ids {
		ids[i] = uniqueID("m-")
		var lines []line
		for _, k := range rng.Perm(len(skus))[:2+rng.IntN(2)] {
			lines = append(lines, line{skus[k], int64(1 + rng.IntN(3))})
		}
		events[i] = orderCreated(ids[i], lines...)
	}

	before := metrics(t)
	start := time.Now()
	var wg sync.WaitGroup
	restocked := make([]atomic.Int64, len(skus))
	admin := adminToken(t)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < restocks; i += 4 {
				k := i % len(skus)
				resp, err := sys.Do(context.Background(), harness.Request{Method: http.MethodPost, Service: "inventorysvc",
					Path: "/products/" + skus[k] + "/restock", Header: bearer(admin), Body: map[string]any{"quantity": 1}})
				if err != nil || resp.Status != http.StatusOK {
					t.Errorf("restock %s: %v %+v", skus[k], err, resp)
					return
				}
				restocked[k].Add(1)
			}
		}()
	}
	publishConcurrently(t, 16, events)
	after := waitDecisions(t, before, orders)
	elapsed := time.Since(start)
	wg.Wait()

	held := make(map[string]int64)
	decided := map[string]int{}
	for id, r := range reservations(t, ids) {
		decided[r.Status]++
		switch r.Status {
		case "reserved":
			for _, l := range r.Lines {
				held[l.SKU] += l.Quantity
			}
		case "rejected":
			if len(r.Rejections) == 0 {
				t.Errorf("order %s rejected with no reason", id)
			}
		default:
			t.Errorf("order %s: %+v; want reserved or rejected", id, r)
		}
	}
	for k, sku := range skus {
		p := getProduct(t, sku)
		received := stock + restocked[k].Load()
		if p.Available < 0 || p.Reserved != held[sku] || p.Sold != 0 || p.Available+p.Reserved+p.Sold != received {
			t.Errorf("%s = %+v; want reserved %d (the reserved orders' lines) and available + reserved + sold == %d received",
				sku, p, held[sku], received)
		}
	}
	if decided["reserved"] == 0 || decided["rejected"] == 0 {
		t.Errorf("decisions %v; want both reservations and rejections (the test sizes stock for that)", decided)
	}
	t.Logf("%d multi-line orders (%v) and %d restocks in %v: %.0f reservations/s; conflicts retried: %d",
		orders, decided, restocks, elapsed.Round(time.Millisecond), float64(orders)/elapsed.Seconds(), after[metricConflicts]-before[metricConflicts])
}

// TestConcurrentCreatesAreAllListed creates products at once: every new
// SKU lands in the catalog index (no lost update of the index), and of
// several creates of one SKU exactly one wins.
func TestConcurrentCreatesAreAllListed(t *testing.T) {
	const distinct, same = 12, 6
	admin := adminToken(t)
	taken := uniqueID("DUP-")
	skus := make([]string, 0, distinct+same)
	for range distinct {
		skus = append(skus, uniqueID("CC-"))
	}
	for range same {
		skus = append(skus, taken)
	}
	statuses := make([]int, len(skus))
	var wg sync.WaitGroup
	for i, sku := range skus {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := sys.Do(context.Background(), harness.Request{Method: http.MethodPost, Service: "inventorysvc", Path: "/products",
				Header: bearer(admin), Body: map[string]any{"sku": sku, "name": "Concurrent " + sku, "price_cents": 100, "stock": 1}})
			if err != nil {
				t.Error(err)
				return
			}
			statuses[i] = resp.Status
		}()
	}
	wg.Wait()
	won := 0
	for i, st := range statuses {
		switch {
		case i < distinct && st != http.StatusCreated:
			t.Errorf("POST /products %s = %d; want 201", skus[i], st)
		case i >= distinct && st == http.StatusCreated:
			won++
		case i >= distinct && st != http.StatusConflict:
			t.Errorf("POST /products %s (taken) = %d; want 201 once, else 409", skus[i], st)
		}
	}
	if won != 1 {
		t.Errorf("%d creates of %s won; want exactly 1", won, taken)
	}

	listed := map[string]bool{}
	token := ""
	for pages := 0; pages < 100; pages++ {
		path := "/products?page_size=100"
		if token != "" {
			path += "&page_token=" + token
		}
		resp := call(t, harness.Request{Method: http.MethodGet, Service: "inventorysvc", Path: path})
		var page productPage
		if err := resp.JSON(&page); err != nil || resp.Status != http.StatusOK {
			t.Fatalf("GET %s = %d %s", path, resp.Status, resp.Body)
		}
		for _, p := range page.Products {
			listed[p.SKU] = true
		}
		if token = page.NextPageToken; token == "" {
			break
		}
	}
	for _, sku := range skus {
		if !listed[sku] {
			t.Errorf("%s was created but is not listed", sku)
		}
	}
}
