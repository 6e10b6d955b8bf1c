package faults

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"shop/e2e/harness"
)

const price = 1250

var serial atomic.Int64

func uniqueID(prefix string) string {
	return fmt.Sprintf("%s%d%d", prefix, time.Now().UnixNano()%1e9, serial.Add(1))
}

func bearer(token string) http.Header { return http.Header{"Authorization": {"Bearer " + token}} }

func do(t *testing.T, req harness.Request) *harness.Response {
	t.Helper()
	resp, err := sys.Do(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func login(t *testing.T, email, password string) string {
	t.Helper()
	resp := do(t, harness.Request{Method: http.MethodPost, Service: "usersvc", Path: "/auth/token", Body: map[string]string{"email": email, "password": password}})
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if resp.Status != http.StatusOK || resp.JSON(&tok) != nil || tok.AccessToken == "" {
		t.Fatalf("POST /auth/token %s = %d %s; want 200 with a token", email, resp.Status, resp.Body)
	}
	return tok.AccessToken
}

const password = "correct horse battery"

// newCustomer registers a customer and returns its email and token.
func newCustomer(t *testing.T) (email, token string) {
	t.Helper()
	email = strings.ToLower(uniqueID("faults-")) + "@shop.test"
	resp := do(t, harness.Request{Method: http.MethodPost, Service: "usersvc", Path: "/users", Body: map[string]string{"email": email, "password": password, "name": "Fault Tester"}})
	if resp.Status != http.StatusCreated {
		t.Fatalf("POST /users = %d %s", resp.Status, resp.Body)
	}
	return email, login(t, email, password)
}

func adminToken(t *testing.T) string { return login(t, sys.AdminEmail, sys.AdminPassword) }

// newProduct creates a product priced 1250 with stock units.
func newProduct(t *testing.T, admin string, stock int) string {
	t.Helper()
	sku := uniqueID("FAULTS-")
	resp := do(t, harness.Request{Method: http.MethodPost, Service: "inventorysvc", Path: "/products", Header: bearer(admin),
		Body: map[string]any{"sku": sku, "name": "Fault test " + sku, "price_cents": price, "stock": stock}})
	if resp.Status != http.StatusCreated {
		t.Fatalf("POST /products = %d %s", resp.Status, resp.Body)
	}
	return sku
}

func orderBody(sku string, qty int) map[string]any {
	return map[string]any{"items": []map[string]any{{"sku": sku, "quantity": qty}}, "payment": map[string]string{"card_token": "tok_visa"}}
}

type orderView struct {
	ID            string `json:"id"`
	Status        string `json:"status"`
	StatusReason  string `json:"status_reason"`
	TotalCents    int64  `json:"total_cents"`
	PaymentStatus string `json:"payment_status"`
}

type product struct {
	Available int64 `json:"available"`
	Reserved  int64 `json:"reserved"`
	Sold      int64 `json:"sold"`
}

// problem is an RFC 9457 answer.
type problem struct {
	Status int    `json:"status"`
	Title  string `json:"title"`
	Detail string `json:"detail"`
}

// isProblem reports whether resp is problem details with status code.
func isProblem(resp *harness.Response, code int) bool {
	var p problem
	return resp.Status == code && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json") &&
		json.Unmarshal(resp.Body, &p) == nil && p.Status == code
}

// awaitTerminal waits until every order (id -> owner's token) has left
// pending and its payment is decided, and returns them.
func awaitTerminal(t *testing.T, orders map[string]string, timeout time.Duration) map[string]orderView {
	t.Helper()
	ctx := context.Background()
	final := map[string]orderView{}
	err := harness.Eventually(ctx, timeout, func() error {
		for id, token := range orders {
			if _, ok := final[id]; ok {
				continue
			}
			resp, err := sys.Do(ctx, harness.Request{Method: http.MethodGet, Service: "ordersvc", Path: "/orders/" + id, Header: bearer(token)})
			if err != nil {
				return err
			}
			var o orderView
			if resp.Status != http.StatusOK || resp.JSON(&o) != nil {
				return fmt.Errorf("GET /orders/%s = %d %s", id, resp.Status, resp.Body)
			}
			if o.Status == "pending" {
				return fmt.Errorf("order %s still pending (%d of %d terminal)", id, len(final), len(orders))
			}
			final[id] = o
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return final
}

// checkOutcome asserts that every order (of one unit of sku, stock enough
// for all) is confirmed and charged, and that the product sold exactly
// those units.
func checkOutcome(t *testing.T, sku string, stock int, final map[string]orderView) {
	t.Helper()
	for id, o := range final {
		if o.Status != "confirmed" || o.PaymentStatus != "charged" || o.TotalCents != price {
			t.Errorf("order %s ended %s (%s), payment %s, total %d; want confirmed and charged %d", id, o.Status, o.StatusReason, o.PaymentStatus, o.TotalCents, price)
		}
	}
	n := int64(len(final))
	err := harness.Eventually(context.Background(), time.Minute, func() error {
		resp, err := sys.Do(context.Background(), harness.Request{Method: http.MethodGet, Service: "inventorysvc", Path: "/products/" + sku})
		if err != nil {
			return err
		}
		var p product
		if err := resp.JSON(&p); err != nil {
			return err
		}
		if p.Available != int64(stock)-n || p.Reserved != 0 || p.Sold != n {
			return fmt.Errorf("product %s: available %d reserved %d sold %d; want %d, 0, %d", sku, p.Available, p.Reserved, p.Sold, int64(stock)-n, n)
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}

// charges counts the "payment charged" lines of every ordersvc replica's
// log per order id: the charges the provider made.
func charges(t *testing.T) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, line := range logLines(t, "ordersvc") {
		if line["msg"] == "payment charged" {
			if id, ok := line["order_id"].(string); ok {
				out[id]++
			}
		}
	}
	return out
}

// checkChargedOnce asserts that the provider charged each order once.
func checkChargedOnce(t *testing.T, final map[string]orderView) {
	t.Helper()
	made := charges(t)
	for id := range final {
		if made[id] != 1 {
			t.Errorf("order %s charged %d times; want once", id, made[id])
		}
	}
}

// logLines are the JSON log lines of every replica of svc, each tagged
// with "replica".
func logLines(t *testing.T, svc string) []map[string]any {
	t.Helper()
	files := sys.LogFiles()
	var out []map[string]any
	for _, name := range sys.Replicas(svc) {
		f, err := os.Open(files[name])
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var line map[string]any
			if json.Unmarshal(sc.Bytes(), &line) == nil {
				line["replica"] = name
				out = append(out, line)
			}
		}
		f.Close()
	}
	return out
}

// requestsPerReplica counts, per replica of svc, the requests its log
// shows for method and path (a prefix).
func requestsPerReplica(t *testing.T, svc, method, path string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, name := range sys.Replicas(svc) {
		out[name] = 0
	}
	for _, line := range logLines(t, svc) {
		if line["method"] == method && strings.HasPrefix(fmt.Sprint(line["path"]), path) && line["status"] != nil {
			out[line["replica"].(string)]++
		}
	}
	return out
}

// shopper places orders of one unit of sku at a steady rate, as a client
// that retries what failed (with the same Idempotency-Key) after the
// Retry-After it was given. It records what every request saw.
type shopper struct {
	sku, token string
	rate       float64

	mu       sync.Mutex
	accepted map[string]string // order id -> token
	seen     map[string]int    // what the client saw: "202", "503 problem ... (its detail)", "transport error"...
	failures []string          // answers a client must not see
	longest  time.Duration
	wg       sync.WaitGroup
	stop     chan struct{}
}

func newShopper(sku, token string, rate float64) *shopper {
	return &shopper{sku: sku, token: token, rate: rate, accepted: map[string]string{}, seen: map[string]int{}, stop: make(chan struct{})}
}

// run places orders until Stop; each order is tried until accepted or a
// minute passes.
func (s *shopper) run() {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		tick := time.NewTicker(time.Duration(float64(time.Second) / s.rate))
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-s.stop:
				return
			case <-tick.C:
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.place(uniqueID("order-"))
			}()
		}
	}()
}

func (s *shopper) place(key string) {
	ctx := context.Background()
	header := bearer(s.token)
	header.Set("Idempotency-Key", key)
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		start := time.Now()
		resp, err := sys.Do(ctx, harness.Request{Method: http.MethodPost, Service: "ordersvc", Path: "/orders", Body: orderBody(s.sku, 1), Header: header})
		took := time.Since(start)
		wait := 500 * time.Millisecond
		var outcome string
		var o orderView
		switch {
		case err != nil:
			outcome = "transport error"
		case resp.Status == http.StatusAccepted && resp.JSON(&o) == nil:
			outcome = "202"
		case isProblem(resp, http.StatusServiceUnavailable) && resp.Header.Get("Retry-After") != "":
			var p problem
			_ = resp.JSON(&p)
			outcome = "503 problem with Retry-After (" + p.Detail + ")"
			if secs, err := time.ParseDuration(resp.Header.Get("Retry-After") + "s"); err == nil {
				wait = secs
			}
		default:
			outcome = fmt.Sprintf("%d", resp.Status)
		}
		s.mu.Lock()
		s.seen[outcome]++
		s.longest = max(s.longest, took)
		if outcome == "202" {
			s.accepted[o.ID] = s.token
		} else if !strings.HasPrefix(outcome, "503") {
			body := ""
			if resp != nil {
				body = string(resp.Body)
			}
			s.failures = append(s.failures, fmt.Sprintf("%s after %v: %v %.200s", outcome, took.Round(time.Millisecond), err, body))
		}
		s.mu.Unlock()
		if outcome == "202" {
			return
		}
		<-time.After(wait) // the client's back-off, as Retry-After asks
	}
	s.mu.Lock()
	s.failures = append(s.failures, "order "+key+" never accepted in a minute")
	s.mu.Unlock()
}

// Stop ends the load and waits for every order in progress.
func (s *shopper) Stop() {
	close(s.stop)
	s.wg.Wait()
}

// settle stops the load, reports what the client saw and fails on what
// it must not see, then waits for every accepted order and checks it was
// confirmed, sold and charged once (of a product with stock units).
func (s *shopper) settle(t *testing.T, stock int) map[string]orderView {
	t.Helper()
	s.Stop()
	t.Logf("client saw %v; %d orders accepted; longest request %v", s.seen, len(s.accepted), s.longest.Round(time.Millisecond))
	for _, f := range s.failures {
		t.Errorf("client saw: %s", f)
	}
	final := awaitTerminal(t, s.accepted, 3*time.Minute)
	checkOutcome(t, s.sku, stock, final)
	checkChargedOnce(t, final)
	return final
}

// placeOrders places n orders of one unit of sku, one after the other, and
// returns them (id -> token).
func placeOrders(t *testing.T, token, sku string, n int) map[string]string {
	t.Helper()
	orders := map[string]string{}
	for range n {
		resp := do(t, harness.Request{Method: http.MethodPost, Service: "ordersvc", Path: "/orders", Body: orderBody(sku, 1), Header: bearer(token)})
		var o orderView
		if resp.Status != http.StatusAccepted || resp.JSON(&o) != nil {
			t.Fatalf("POST /orders = %d %s", resp.Status, resp.Body)
		}
		orders[o.ID] = token
	}
	return orders
}
