package orderhttp

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"shop/ordersvc/internal/order"
	"shop/ordersvc/internal/order/ordertest"
	"shop/platform/auth"
	"shop/platform/events"
	"shop/platform/httpx"
)

type paymentStatus struct{}

func (paymentStatus) Status(context.Context, string) (string, error) { return "none", nil }

type env struct {
	router http.Handler
	state  *ordertest.Env
	token  func(sub, role string) string
}

// orders counts the stored orders.
func (e *env) orders() int {
	n := 0
	for k := range e.state.State.Keys() {
		if strings.HasPrefix(k, "order:") {
			n++
		}
	}
	return n
}

func newEnv(t *testing.T) *env {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	jwk := auth.NewJWK(pub)
	verifier := auth.NewVerifier(func(context.Context) (auth.JWKS, error) { return auth.JWKS{Keys: []auth.JWK{jwk}}, nil })
	state := ordertest.NewEnv()
	svc := order.NewService(state.Store, ordertest.Inventory{"BOOK": 1000}, state.Payments, &ordertest.Publisher{})
	r := httpx.NewRouter()
	New(Deps{Service: svc, Payments: paymentStatus{}, Verifier: verifier, DeadLetters: events.NewDeadLetters(nil, "s", "ordersvc", "inventorysvc"),
		PubSub: "pubsub", OrdersTopic: "orders", InventoryTopic: "inventory", OrdersAppID: "ordersvc", InventoryAppID: "inventorysvc",
		SagaTimeout: time.Minute, TimeoutBinding: "saga-timeout"}).Register(r)
	return &env{router: r, state: state, token: func(sub, role string) string {
		now := time.Now()
		tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.MapClaims{"sub": sub, "role": role, "iss": auth.Issuer, "aud": auth.Audience,
			"iat": now.Unix(), "exp": now.Add(time.Minute).Unix()})
		tok.Header["kid"] = jwk.KeyID
		s, err := tok.SignedString(priv)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}}
}

func (e *env) do(method, path, token, body string, header map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	e.router.ServeHTTP(rec, req)
	return rec
}

const goodOrder = `{"items":[{"sku":"BOOK","quantity":2}],"payment":{"card_token":"tok_visa"}}`

func TestPlaceOrder(t *testing.T) {
	e := newEnv(t)
	alice := e.token("alice", auth.RoleCustomer)
	tests := []struct {
		name   string
		token  string
		body   string
		header map[string]string
		status int
		field  string
	}{
		{"ok", alice, goodOrder, nil, 202, ""},
		{"no token", "", goodOrder, nil, 401, ""},
		{"client price", alice, `{"items":[{"sku":"BOOK","quantity":1,"unit_price_cents":1}],"payment":{"card_token":"tok_visa"}}`, nil, 400, "unit_price_cents"},
		{"client status", alice, `{"status":"confirmed","items":[{"sku":"BOOK","quantity":1}],"payment":{"card_token":"tok_visa"}}`, nil, 400, "status"},
		{"client user id", alice, `{"user_id":"bob","items":[{"sku":"BOOK","quantity":1}],"payment":{"card_token":"tok_visa"}}`, nil, 400, "user_id"},
		{"empty items", alice, `{"items":[],"payment":{"card_token":"tok_visa"}}`, nil, 400, "items"},
		{"quantity 0", alice, `{"items":[{"sku":"BOOK","quantity":0}],"payment":{"card_token":"tok_visa"}}`, nil, 400, "items[0].quantity"},
		{"quantity 10^9", alice, `{"items":[{"sku":"BOOK","quantity":1000000000}],"payment":{"card_token":"tok_visa"}}`, nil, 400, "items[0].quantity"},
		{"wrong type", alice, `{"items":[{"sku":"BOOK","quantity":"two"}],"payment":{"card_token":"tok_visa"}}`, nil, 400, "items.quantity"},
		{"unknown sku", alice, `{"items":[{"sku":"NOPE","quantity":1}],"payment":{"card_token":"tok_visa"}}`, nil, 400, "items[0].sku"},
		{"unknown card", alice, `{"items":[{"sku":"BOOK","quantity":1}],"payment":{"card_token":"tok_amex"}}`, nil, 400, "payment.card_token"},
		{"not json", alice, `{"items":`, nil, 400, ""},
		{"huge body", alice, `{"items":[` + strings.Repeat(`{"sku":"BOOK","quantity":1},`, 50000) + `]}`, nil, 413, ""},
		{"long idempotency key", alice, goodOrder, map[string]string{"Idempotency-Key": strings.Repeat("k", 200)}, 400, "Idempotency-Key"},
		{"idempotency key with ||", alice, goodOrder, map[string]string{"Idempotency-Key": "a||b"}, 400, "Idempotency-Key"},
		{"idempotency key with a control character", alice, goodOrder, map[string]string{"Idempotency-Key": "a\x7fb"}, 400, "Idempotency-Key"},
	}
	for _, tt := range tests {
		before := e.orders()
		rec := e.do(http.MethodPost, "/orders", tt.token, tt.body, tt.header)
		if rec.Code != tt.status {
			t.Errorf("%s: POST /orders = %d %s; want %d", tt.name, rec.Code, rec.Body, tt.status)
			continue
		}
		if tt.status >= 400 {
			if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("%s: Content-Type = %q; want problem details", tt.name, ct)
			}
			if e.orders() != before {
				t.Errorf("%s: a rejected request created an order", tt.name)
			}
		}
		if tt.field != "" && !strings.Contains(rec.Body.String(), `"field":"`+tt.field+`"`) {
			t.Errorf("%s: problem %s does not name %s", tt.name, rec.Body, tt.field)
		}
		if tt.status == 202 {
			var o orderJSON
			if err := json.Unmarshal(rec.Body.Bytes(), &o); err != nil || o.Status != "pending" || o.UserID != "alice" || o.TotalCents != 2000 {
				t.Errorf("%s: body %s; want a pending order of alice priced 2000", tt.name, rec.Body)
			}
			if rec.Header().Get("Location") != "/orders/"+o.ID {
				t.Errorf("%s: Location = %q; want /orders/%s", tt.name, rec.Header().Get("Location"), o.ID)
			}
		}
	}
}

func TestOrdersAreTheOwnersOnly(t *testing.T) {
	e := newEnv(t)
	alice, bob, admin := e.token("alice", "customer"), e.token("bob", "customer"), e.token("root", "admin")
	rec := e.do(http.MethodPost, "/orders", alice, goodOrder, nil)
	var o orderJSON
	if err := json.Unmarshal(rec.Body.Bytes(), &o); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		who, token, method, path string
		status                   int
	}{
		{"owner", alice, "GET", "/orders/" + o.ID, 200},
		{"other customer", bob, "GET", "/orders/" + o.ID, 404},
		{"admin", admin, "GET", "/orders/" + o.ID, 200},
		{"other customer cancels", bob, "POST", "/orders/" + o.ID + "/cancel", 404},
		{"unknown id", alice, "GET", "/orders/nope", 404},
		{"owner cancels", alice, "POST", "/orders/" + o.ID + "/cancel", 200},
		{"owner cancels again", alice, "POST", "/orders/" + o.ID + "/cancel", 409},
		{"bad page size", alice, "GET", "/orders?page_size=0", 400},
		{"bad page token", alice, "GET", "/orders?page_token=bm9wZQ", 400},
		{"admin's page token", alice, "GET", "/orders?page_token=" + httpx.PageToken(strings.Repeat("0.,", 15)+"0."), 400},
	} {
		if rec := e.do(tt.method, tt.path, tt.token, "", nil); rec.Code != tt.status {
			t.Errorf("%s: %s %s = %d %s; want %d", tt.who, tt.method, tt.path, rec.Code, rec.Body, tt.status)
		}
	}
}

func TestEventHandlersAnswerDapr(t *testing.T) {
	e := newEnv(t)
	rec := e.do(http.MethodPost, "/orders", e.token("alice", "customer"), goodOrder, nil)
	var o orderJSON
	if err := json.Unmarshal(rec.Body.Bytes(), &o); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, data, want string
	}{
		// Only inventorysvc publishes inventory outcomes, only ordersvc order events.
		{"reserved, forged by another app", "/events/inventory", `{"type":"inventory.reserved","order_id":"` + o.ID + `"}`, "DROP"},
		{"cancelled, forged by another app", "/events/orders", `{"type":"order.cancelled","order_id":"` + o.ID + `"}`, "DROP"},
		{"reserved", "/events/inventory", `{"type":"inventory.reserved","order_id":"` + o.ID + `"}`, "SUCCESS"},
		{"reserved again", "/events/inventory", `"{\"type\":\"inventory.reserved\",\"order_id\":\"` + o.ID + `\"}"`, "SUCCESS"},
		{"unknown order", "/events/inventory", `{"type":"inventory.reserved","order_id":"o0000000000000000000000000000"}`, "SUCCESS"},
		{"malformed order id", "/events/inventory", `{"type":"inventory.reserved","order_id":"a||b"}`, "DROP"},
		{"no order id", "/events/inventory", `{"type":"inventory.reserved"}`, "DROP"},
		{"other type", "/events/inventory", `{"type":"inventory.restocked","order_id":"x"}`, "SUCCESS"},
		{"cancelled, unknown order", "/events/orders", `{"type":"order.cancelled","order_id":"o0000000000000000000000000000"}`, "SUCCESS"},
		{"cancelled: refund", "/events/orders", `{"type":"order.cancelled","order_id":"` + o.ID + `"}`, "SUCCESS"},
	}
	for _, tt := range tests {
		source := map[string]string{"/events/inventory": "inventorysvc", "/events/orders": "ordersvc"}[tt.path]
		if strings.Contains(tt.name, "forged") {
			source = "usersvc"
		}
		rec := e.do(http.MethodPost, tt.path, "", `{"id":"e1","source":"`+source+`","data":`+tt.data+`}`, map[string]string{"Content-Type": "application/cloudevents+json"})
		if !strings.Contains(rec.Body.String(), `"status":"`+tt.want+`"`) {
			t.Errorf("%s: answered %s; want %s", tt.name, rec.Body, tt.want)
		}
	}
	if got, err := e.state.Store.Get(context.Background(), o.ID); err != nil || got.Status != order.StatusConfirmed {
		t.Errorf("after inventory.reserved the order is %s, %v; want confirmed", got.Status, err)
	}
}
