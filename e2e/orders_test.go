package e2e

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

type orderItem struct {
	SKU            string `json:"sku"`
	Quantity       int64  `json:"quantity"`
	UnitPriceCents int64  `json:"unit_price_cents"`
}

type orderView struct {
	ID            string      `json:"id"`
	UserID        string      `json:"user_id"`
	Status        string      `json:"status"`
	StatusReason  string      `json:"status_reason"`
	Items         []orderItem `json:"items"`
	TotalCents    int64       `json:"total_cents"`
	PaymentStatus string      `json:"payment_status"`
	CreatedAt     time.Time   `json:"created_at"`
	UpdatedAt     time.Time   `json:"updated_at"`
}

func orderBody(card string, lines ...line) map[string]any {
	return map[string]any{"items": lines, "payment": map[string]string{"card_token": card}}
}

// placeOrder posts an order and expects 202.
func placeOrder(t *testing.T, token string, body any) orderView {
	t.Helper()
	resp, err := sys.Do(context.Background(), harness.Request{Method: http.MethodPost, Service: "ordersvc", Path: "/orders", Body: body, Header: bearer(token)})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != http.StatusAccepted {
		t.Fatalf("POST /orders = %d %s; want 202", resp.Status, resp.Body)
	}
	var o orderView
	if err := resp.JSON(&o); err != nil {
		t.Fatal(err)
	}
	if o.Status != "pending" || resp.Header.Get("Location") != "/orders/"+o.ID {
		t.Fatalf("POST /orders = %+v, Location %q; want pending with its Location", o, resp.Header.Get("Location"))
	}
	return o
}

func getOrder(ctx context.Context, token, id string) (orderView, int, error) {
	resp, err := sys.Do(ctx, harness.Request{Method: http.MethodGet, Service: "ordersvc", Path: "/orders/" + id, Header: bearer(token)})
	if err != nil {
		return orderView{}, 0, err
	}
	var o orderView
	if resp.Status == http.StatusOK {
		err = resp.JSON(&o)
	}
	return o, resp.Status, err
}

// awaitOrder polls the order until it has the status (and payment status,
// if not empty) or the deadline passes.
func awaitOrder(t *testing.T, token, id, status, payment string) orderView {
	t.Helper()
	var o orderView
	err := harness.Eventually(context.Background(), 30*time.Second, func() error {
		var code int
		var err error
		o, code, err = getOrder(context.Background(), token, id)
		if err != nil {
			return err
		}
		if code != http.StatusOK || o.Status != status || (payment != "" && o.PaymentStatus != payment) {
			return fmt.Errorf("order %s is %d %s/%s (%s); want %s/%s", id, code, o.Status, o.PaymentStatus, o.StatusReason, status, payment)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// awaitStock polls the product until its stock is as wanted.
func awaitStock(t *testing.T, sku string, available, reserved, sold int64) {
	t.Helper()
	err := harness.Eventually(context.Background(), 30*time.Second, func() error {
		p := getProduct(t, sku)
		if p.Available != available || p.Reserved != reserved || p.Sold != sold {
			return fmt.Errorf("product %s: available %d reserved %d sold %d; want %d, %d, %d", sku, p.Available, p.Reserved, p.Sold, available, reserved, sold)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestOrderConfirmed(t *testing.T) {
	_, token := newCustomer(t)
	sku := newProduct(t, 10)
	o := placeOrder(t, token, orderBody("tok_visa", line{sku, 3}))
	if o.TotalCents != 3*1250 || len(o.Items) != 1 || o.Items[0].UnitPriceCents != 1250 {
		t.Errorf("order %+v; want priced by the inventory: 3 x 1250", o)
	}
	awaitOrder(t, token, o.ID, "confirmed", "charged")
	awaitStock(t, sku, 7, 0, 3)
}

func TestOrderRejectedWhenOutOfStock(t *testing.T) {
	_, token := newCustomer(t)
	sku := newProduct(t, 2)
	other := newProduct(t, 5)
	o := placeOrder(t, token, orderBody("tok_visa", line{other, 1}, line{sku, 3}))
	got := awaitOrder(t, token, o.ID, "rejected", "none")
	if got.StatusReason != "out_of_stock" {
		t.Errorf("status_reason = %q; want out_of_stock", got.StatusReason)
	}
	awaitStock(t, sku, 2, 0, 0)
	awaitStock(t, other, 5, 0, 0)
}

func TestOrderCancelledWhenCardDeclined(t *testing.T) {
	_, token := newCustomer(t)
	sku := newProduct(t, 4)
	o := placeOrder(t, token, orderBody("tok_decline", line{sku, 2}))
	got := awaitOrder(t, token, o.ID, "cancelled", "declined")
	if got.StatusReason != "payment_declined" {
		t.Errorf("status_reason = %q; want payment_declined", got.StatusReason)
	}
	awaitStock(t, sku, 4, 0, 0)
}

func TestCustomerCancelsAndIsRefunded(t *testing.T) {
	_, token := newCustomer(t)
	sku := newProduct(t, 6)
	o := placeOrder(t, token, orderBody("tok_visa", line{sku, 2}))
	awaitOrder(t, token, o.ID, "confirmed", "charged")
	resp, err := sys.Do(context.Background(), harness.Request{Method: http.MethodPost, Service: "ordersvc", Path: "/orders/" + o.ID + "/cancel", Header: bearer(token)})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != http.StatusOK {
		t.Fatalf("cancel = %d %s; want 200", resp.Status, resp.Body)
	}
	got := awaitOrder(t, token, o.ID, "cancelled", "refunded")
	if got.StatusReason != "cancelled_by_customer" {
		t.Errorf("status_reason = %q; want cancelled_by_customer", got.StatusReason)
	}
	awaitStock(t, sku, 6, 0, 0)
	resp, err = sys.Do(context.Background(), harness.Request{Method: http.MethodPost, Service: "ordersvc", Path: "/orders/" + o.ID + "/cancel", Header: bearer(token)})
	if err != nil {
		t.Fatal(err)
	}
	checkProblem(t, "cancel a cancelled order", resp, http.StatusConflict, "")
}

func TestOrdersAreVisibleToTheirOwnerOnly(t *testing.T) {
	_, alice := newCustomer(t)
	_, bob := newCustomer(t)
	sku := newProduct(t, 3)
	o := placeOrder(t, alice, orderBody("tok_visa", line{sku, 1}))
	if _, code, err := getOrder(context.Background(), bob, o.ID); err != nil || code != http.StatusNotFound {
		t.Errorf("bob GET alice's order = %d, %v; want 404", code, err)
	}
	resp, err := sys.Do(context.Background(), harness.Request{Method: http.MethodPost, Service: "ordersvc", Path: "/orders/" + o.ID + "/cancel", Header: bearer(bob)})
	if err != nil {
		t.Fatal(err)
	}
	checkProblem(t, "bob cancels alice's order", resp, http.StatusNotFound, "")
	if _, code, err := getOrder(context.Background(), adminToken(t), o.ID); err != nil || code != http.StatusOK {
		t.Errorf("admin GET alice's order = %d, %v; want 200", code, err)
	}
	for who, token := range map[string]string{"alice": alice, "bob": bob} {
		resp, err := sys.Do(context.Background(), harness.Request{Method: http.MethodGet, Service: "ordersvc", Path: "/orders", Header: bearer(token)})
		if err != nil {
			t.Fatal(err)
		}
		var page struct {
			Orders []orderView `json:"orders"`
		}
		if err := resp.JSON(&page); err != nil {
			t.Fatal(err)
		}
		for _, got := range page.Orders {
			if got.UserID == "" || (who == "bob" && got.ID == o.ID) {
				t.Errorf("%s's GET /orders lists %+v", who, got)
			}
		}
		if who == "alice" && (len(page.Orders) != 1 || page.Orders[0].ID != o.ID) {
			t.Errorf("alice's GET /orders = %+v; want her one order", page.Orders)
		}
	}
}

func TestIdempotencyKeyRace(t *testing.T) {
	_, token := newCustomer(t)
	sku := newProduct(t, 50)
	header := bearer(token)
	header.Set("Idempotency-Key", "race-1")
	body := orderBody("tok_visa", line{sku, 1})
	var wg sync.WaitGroup
	ids := make([]string, 10)
	codes := make([]int, 10)
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := sys.Do(context.Background(), harness.Request{Method: http.MethodPost, Service: "ordersvc", Path: "/orders", Body: body, Header: header})
			if err != nil {
				t.Error(err)
				return
			}
			var o orderView
			_ = resp.JSON(&o)
			ids[i], codes[i] = o.ID, resp.Status
		}()
	}
	wg.Wait()
	for i := range 10 {
		if codes[i] != http.StatusAccepted || ids[i] == "" || ids[i] != ids[0] {
			t.Fatalf("request %d = %d order %q; want 202 and the same order as the others (%q)", i, codes[i], ids[i], ids[0])
		}
	}
	awaitOrder(t, token, ids[0], "confirmed", "charged")
	awaitStock(t, sku, 49, 0, 1)
	// The same key with another request is refused.
	resp, err := sys.Do(context.Background(), harness.Request{Method: http.MethodPost, Service: "ordersvc", Path: "/orders", Body: orderBody("tok_visa", line{sku, 2}), Header: header})
	if err != nil {
		t.Fatal(err)
	}
	checkProblem(t, "same key, another order", resp, http.StatusUnprocessableEntity, "")
}

func TestBadOrdersAreRejected(t *testing.T) {
	userID, token := newCustomer(t)
	sku := newProduct(t, 5)
	huge := `{"items":[` + fmt.Sprintf(`{"sku":%q,"quantity":1},`, sku)
	for len(huge) < 1<<20 {
		huge += fmt.Sprintf(`{"sku":%q,"quantity":1},`, sku)
	}
	huge += `{}]}`
	tests := []struct {
		name   string
		body   any
		status int
		field  string
	}{
		{"empty items", orderBody("tok_visa"), 400, "items"},
		{"quantity 0", orderBody("tok_visa", line{sku, 0}), 400, "items[0].quantity"},
		{"quantity 10^9", orderBody("tok_visa", line{sku, 1_000_000_000}), 400, "items[0].quantity"},
		{"duplicate skus", orderBody("tok_visa", line{sku, 1}, line{sku, 1}), 400, "items[1].sku"},
		{"unknown sku", orderBody("tok_visa", line{"NO-SUCH-SKU-X", 1}), 400, "items[0].sku"},
		{"unknown card", orderBody("tok_nope", line{sku, 1}), 400, "payment.card_token"},
		{"client price", fmt.Sprintf(`{"items":[{"sku":%q,"quantity":1,"unit_price_cents":1}],"payment":{"card_token":"tok_visa"}}`, sku), 400, "unit_price_cents"},
		{"client status", fmt.Sprintf(`{"status":"confirmed","items":[{"sku":%q,"quantity":1}],"payment":{"card_token":"tok_visa"}}`, sku), 400, "status"},
		{"client user id", fmt.Sprintf(`{"user_id":"x","items":[{"sku":%q,"quantity":1}],"payment":{"card_token":"tok_visa"}}`, sku), 400, "user_id"},
		{"wrong type", fmt.Sprintf(`{"items":[{"sku":%q,"quantity":"1"}],"payment":{"card_token":"tok_visa"}}`, sku), 400, "items.quantity"},
		{"not json", `{"items":`, 400, ""},
		{"huge body", huge, 413, ""},
	}
	for _, tt := range tests {
		resp, err := sys.Do(context.Background(), harness.Request{Method: http.MethodPost, Service: "ordersvc", Path: "/orders", Body: tt.body, Header: bearer(token)})
		if err != nil {
			t.Fatal(err)
		}
		checkProblem(t, tt.name, resp, tt.status, tt.field)
	}
	resp, err := sys.Do(context.Background(), harness.Request{Method: http.MethodPost, Service: "ordersvc", Path: "/orders", Body: orderBody("tok_visa", line{sku, 1})})
	if err != nil {
		t.Fatal(err)
	}
	checkProblem(t, "no token", resp, http.StatusUnauthorized, "")
	// None of them created an order or touched the stock.
	resp, err = sys.Do(context.Background(), harness.Request{Method: http.MethodGet, Service: "ordersvc", Path: "/orders", Header: bearer(token)})
	if err != nil {
		t.Fatal(err)
	}
	var page struct {
		Orders []orderView `json:"orders"`
	}
	if err := resp.JSON(&page); err != nil || len(page.Orders) != 0 {
		t.Errorf("user %s has orders %+v after bad requests (%v); want none", userID, page.Orders, err)
	}
	awaitStock(t, sku, 5, 0, 0)
}

// A user's orders page through index pages: every order once, newest
// first, whatever the page size.
func TestListOrdersPages(t *testing.T) {
	_, token := newCustomer(t)
	sku := newProduct(t, 200)
	const n = 105 // more than one index page
	ids := make([]string, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			resp, err := sys.Do(context.Background(), harness.Request{Method: http.MethodPost, Service: "ordersvc", Path: "/orders",
				Body: orderBody("tok_visa", line{sku, 1}), Header: bearer(token)})
			var o orderView
			if err != nil || resp.Status != http.StatusAccepted || resp.JSON(&o) != nil {
				t.Errorf("POST /orders = %v, %v", resp, err)
				return
			}
			ids[i] = o.ID
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	seen := map[string]bool{}
	token2 := ""
	for page := 0; ; page++ {
		if page > n {
			t.Fatal("the listing never ends")
		}
		path := "/orders?page_size=40"
		if token2 != "" {
			path += "&page_token=" + token2
		}
		resp, err := sys.Do(context.Background(), harness.Request{Method: http.MethodGet, Service: "ordersvc", Path: path, Header: bearer(token)})
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Orders []orderView `json:"orders"`
			Next   string      `json:"next_page_token"`
		}
		if resp.Status != http.StatusOK || resp.JSON(&body) != nil || len(body.Orders) > 40 {
			t.Fatalf("GET %s = %d %s", path, resp.Status, resp.Body)
		}
		for _, o := range body.Orders {
			if seen[o.ID] {
				t.Errorf("order %s listed twice", o.ID)
			}
			seen[o.ID] = true
		}
		if body.Next == "" {
			break
		}
		token2 = body.Next
	}
	for _, id := range ids {
		if !seen[id] {
			t.Errorf("order %s not listed", id)
		}
	}
	if len(seen) != n {
		t.Errorf("listed %d orders; want %d", len(seen), n)
	}
}

// Idempotency-Keys that cannot become part of a state key are refused
// with a problem, before anything is stored.
func TestBadIdempotencyKeys(t *testing.T) {
	_, token := newCustomer(t)
	sku := newProduct(t, 5)
	for name, key := range map[string]string{"with ||": "a||b", "too long": strings.Repeat("k", 129)} {
		header := bearer(token)
		header.Set("Idempotency-Key", key)
		resp, err := sys.Do(context.Background(), harness.Request{Method: http.MethodPost, Service: "ordersvc", Path: "/orders",
			Body: orderBody("tok_visa", line{sku, 1}), Header: header})
		if err != nil {
			t.Fatal(err)
		}
		checkProblem(t, "Idempotency-Key "+name, resp, http.StatusBadRequest, "Idempotency-Key")
	}
	awaitStock(t, sku, 5, 0, 0)
}

// placePaced places n orders of one unit of sku, one every `every`, by the
// customers of tokens in turn, without waiting for answers before the next
// one; it returns the orders' ids and ends the test if any was refused.
func placePaced(t *testing.T, sku string, tokens []string, n int, every time.Duration) []string {
	t.Helper()
	ctx := context.Background()
	ids := make([]string, n)
	var wg sync.WaitGroup
	tick := time.NewTicker(every)
	defer tick.Stop()
	for i := range n {
		<-tick.C
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := sys.Do(ctx, harness.Request{Method: http.MethodPost, Service: "ordersvc", Path: "/orders",
				Body: orderBody("tok_visa", line{sku, 1}), Header: bearer(tokens[i%len(tokens)])})
			if err != nil {
				t.Error(err)
				return
			}
			var o orderView
			if resp.Status != http.StatusAccepted || resp.JSON(&o) != nil {
				t.Errorf("POST /orders = %d %s; want 202", resp.Status, resp.Body)
				return
			}
			ids[i] = o.ID
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	return ids
}
