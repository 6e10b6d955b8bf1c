package inventoryhttp_test

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"shop/inventorysvc/internal/inventory"
	"shop/inventorysvc/internal/inventory/inventorytest"
	"shop/inventorysvc/internal/inventoryhttp"
	"shop/platform/auth"
	"shop/platform/events"
	"shop/platform/httpx"
)

type fixture struct {
	store  *inventorytest.Store
	pub    *inventorytest.Publisher
	svc    *inventory.Service
	router http.Handler
	priv   ed25519.PrivateKey
	kid    string
}

func newFixture(t *testing.T, products ...inventory.Product) *fixture {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	jwk := auth.NewJWK(pub)
	f := &fixture{store: inventorytest.NewStore(products...), pub: &inventorytest.Publisher{}, priv: priv, kid: jwk.KeyID}
	f.svc = inventory.NewService(f.store, f.pub)
	verifier := auth.NewVerifier(func(context.Context) (auth.JWKS, error) { return auth.JWKS{Keys: []auth.JWK{jwk}}, nil })
	r := httpx.NewRouter()
	inventoryhttp.New(inventoryhttp.Deps{Service: f.svc, Verifier: verifier, DeadLetters: events.NewDeadLetters(nil, "s", "ordersvc"), PubSub: "pubsub", OrdersTopic: "orders", OrdersAppID: "ordersvc"}).Register(r)
	f.router = r
	return f
}

// token mints an access token as usersvc would.
func (f *fixture) token(t *testing.T, role string) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	now := time.Now().Unix()
	signing := enc(map[string]string{"alg": "EdDSA", "typ": "JWT", "kid": f.kid}) + "." +
		enc(map[string]any{"sub": "u-" + role, "role": role, "iss": auth.Issuer, "aud": auth.Audience, "iat": now, "exp": now + 600})
	return signing + "." + base64.RawURLEncoding.EncodeToString(ed25519.Sign(f.priv, []byte(signing)))
}

type response struct {
	status int
	header http.Header
	body   string
}

func (f *fixture) do(method, path, token, body string) response {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	f.router.ServeHTTP(rec, req)
	return response{rec.Code, rec.Header(), rec.Body.String()}
}

func product(sku string, available int64) inventory.Product {
	return inventory.Product{SKU: sku, Name: "Thing " + sku, PriceCents: 250, Available: available, Received: available}
}

// problemFields returns the fields a problem names, or fails.
func problemFields(t *testing.T, what string, r response, status int) []string {
	t.Helper()
	if r.status != status || r.header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("%s = %d %s %s; want a %d problem", what, r.status, r.header.Get("Content-Type"), r.body, status)
		return nil
	}
	var p httpx.Problem
	if err := json.Unmarshal([]byte(r.body), &p); err != nil || p.Status != status {
		t.Errorf("%s body %s is not a problem of status %d", what, r.body, status)
	}
	var fields []string
	for _, e := range p.Errors {
		fields = append(fields, e.Field)
	}
	return fields
}

func TestCreateProduct(t *testing.T) {
	f := newFixture(t, product("A1", 1))
	admin := f.token(t, auth.RoleAdmin)

	r := f.do(http.MethodPost, "/products", admin, `{"sku":"NEW-1","name":" Lamp ","price_cents":1999,"stock":7}`)
	if r.status != http.StatusCreated || r.header.Get("Location") != "/products/NEW-1" {
		t.Fatalf("POST /products = %d %s, Location %q; want 201 with /products/NEW-1", r.status, r.body, r.header.Get("Location"))
	}
	want := `{"sku":"NEW-1","name":"Lamp","price_cents":1999,"available":7,"reserved":0,"sold":0}`
	if strings.TrimSpace(r.body) != want {
		t.Errorf("POST /products body = %s; want %s", r.body, want)
	}
	if got := f.do(http.MethodGet, "/products/NEW-1", "", ""); !strings.Contains(got.body, `"available":7`) {
		t.Errorf("GET the new product = %d %s", got.status, got.body)
	}
	if r := f.do(http.MethodPost, "/products", admin, `{"sku":"NEW-1","name":"Other","price_cents":1,"stock":0}`); r.status != http.StatusConflict {
		t.Errorf("POST /products (taken sku) = %d %s; want 409", r.status, r.body)
	}

	tests := []struct {
		name, body string
		fields     []string
	}{
		{"bad sku", `{"sku":"lamp","name":"Lamp","price_cents":1,"stock":0}`, []string{"sku"}},
		{"blank name", `{"sku":"L2","name":"   ","price_cents":1,"stock":0}`, []string{"name"}},
		{"long name", `{"sku":"L2","name":"` + strings.Repeat("n", 101) + `","price_cents":1,"stock":0}`, []string{"name"}},
		{"free", `{"sku":"L2","name":"Lamp","price_cents":0,"stock":0}`, []string{"price_cents"}},
		{"too dear", `{"sku":"L2","name":"Lamp","price_cents":10000001,"stock":0}`, []string{"price_cents"}},
		{"fractional price", `{"sku":"L2","name":"Lamp","price_cents":1.5,"stock":0}`, []string{"price_cents"}},
		{"negative stock", `{"sku":"L2","name":"Lamp","price_cents":1,"stock":-1}`, []string{"stock"}},
		{"too much stock", `{"sku":"L2","name":"Lamp","price_cents":1,"stock":1000001}`, []string{"stock"}},
		{"unknown field", `{"sku":"L2","name":"Lamp","price_cents":1,"stock":0,"color":"red"}`, []string{"color"}},
		{"missing fields", `{"sku":"L2"}`, []string{"name", "price_cents", "stock"}},
		{"not an object", `[1]`, nil},
	}
	for _, tt := range tests {
		fields := problemFields(t, tt.name, f.do(http.MethodPost, "/products", admin, tt.body), http.StatusBadRequest)
		if strings.Join(fields, ",") != strings.Join(tt.fields, ",") {
			t.Errorf("%s: problem names %v; want %v", tt.name, fields, tt.fields)
		}
	}
	if _, ok := f.store.Stored("L2"); ok {
		t.Error("an invalid request created a product")
	}
}

func TestAdminRoutesNeedAnAdmin(t *testing.T) {
	f := newFixture(t, product("A1", 1))
	customer := f.token(t, auth.RoleCustomer)
	routes := []struct{ method, path, body string }{
		{http.MethodPost, "/products", `{"sku":"X1","name":"x","price_cents":1,"stock":1}`},
		{http.MethodPost, "/products/A1/restock", `{"quantity":1}`},
		{http.MethodGet, "/reservations/o1", ""},
	}
	for _, rt := range routes {
		what := rt.method + " " + rt.path
		if r := f.do(rt.method, rt.path, "", rt.body); r.status != http.StatusUnauthorized || r.header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s without a token = %d; want 401 with WWW-Authenticate", what, r.status)
		}
		if r := f.do(rt.method, rt.path, "not.a.token", rt.body); r.status != http.StatusUnauthorized {
			t.Errorf("%s with a forged token = %d; want 401", what, r.status)
		}
		problemFields(t, what+" as a customer", f.do(rt.method, rt.path, customer, rt.body), http.StatusForbidden)
	}
	checkAvailable(t, f, "A1", 1)
	if _, ok := f.store.Stored("X1"); ok {
		t.Error("a customer created a product")
	}
}

func checkAvailable(t *testing.T, f *fixture, sku string, want int64) {
	t.Helper()
	if p, _ := f.store.Stored(sku); p.Available != want {
		t.Errorf("%s available = %d; want %d", sku, p.Available, want)
	}
}

func TestRestock(t *testing.T) {
	f := newFixture(t, product("A1", 1))
	admin := f.token(t, auth.RoleAdmin)
	r := f.do(http.MethodPost, "/products/A1/restock", admin, `{"quantity":4}`)
	if r.status != http.StatusOK || !strings.Contains(r.body, `"available":5`) {
		t.Errorf("restock = %d %s; want 200 with 5 available", r.status, r.body)
	}
	if r := f.do(http.MethodPost, "/products/NOPE/restock", admin, `{"quantity":4}`); r.status != http.StatusNotFound {
		t.Errorf("restock unknown = %d; want 404", r.status)
	}
	for _, body := range []string{`{"quantity":0}`, `{"quantity":1000001}`, `{}`, `{"quantity":1,"x":1}`} {
		if fields := problemFields(t, "restock "+body, f.do(http.MethodPost, "/products/A1/restock", admin, body), http.StatusBadRequest); len(fields) != 1 {
			t.Errorf("restock %s names %v; want one field", body, fields)
		}
	}
	problemFields(t, "restock bad sku", f.do(http.MethodPost, "/products/a1/restock", admin, `{"quantity":1}`), http.StatusBadRequest)
	checkAvailable(t, f, "A1", 5)
}

func TestLookup(t *testing.T) {
	f := newFixture(t, product("A1", 3), product("B1", 0))
	r := f.do(http.MethodPost, "/products/lookup", "", `{"skus":["B1","ZZ","A1","B1"]}`)
	want := `{"products":[{"sku":"B1","name":"Thing B1","price_cents":250,"available":0},{"sku":"A1","name":"Thing A1","price_cents":250,"available":3}],"missing":["ZZ"]}`
	if r.status != http.StatusOK || strings.TrimSpace(r.body) != want {
		t.Errorf("lookup = %d %s; want 200 %s", r.status, r.body, want)
	}
	r = f.do(http.MethodPost, "/products/lookup", "", `{"skus":["ZZ"]}`)
	if strings.TrimSpace(r.body) != `{"products":[],"missing":["ZZ"]}` {
		t.Errorf("lookup of nothing known = %s", r.body)
	}
	many := make([]string, 101)
	for i := range many {
		many[i] = fmt.Sprintf(`"S%03d"`, i)
	}
	dupes := strings.TrimSuffix(strings.Repeat(`"A1",`, 150), ",")
	tests := []struct {
		name, body string
		fields     []string
	}{
		{"no skus", `{"skus":[]}`, []string{"skus"}},
		{"missing", `{}`, []string{"skus"}},
		{"bad sku", `{"skus":["A1","bad sku"]}`, []string{"skus[1]"}},
		{"too many", `{"skus":[` + strings.Join(many, ",") + `]}`, []string{"skus"}},
		{"unknown field", `{"skus":["A1"],"all":true}`, []string{"all"}},
	}
	for _, tt := range tests {
		fields := problemFields(t, tt.name, f.do(http.MethodPost, "/products/lookup", "", tt.body), http.StatusBadRequest)
		if strings.Join(fields, ",") != strings.Join(tt.fields, ",") {
			t.Errorf("%s: problem names %v; want %v", tt.name, fields, tt.fields)
		}
	}
	if r := f.do(http.MethodPost, "/products/lookup", "", `{"skus":[`+dupes+`]}`); r.status != http.StatusOK {
		t.Errorf("lookup of 150 copies of one sku = %d %s; want 200 (one distinct sku)", r.status, r.body)
	}
}

func TestSubscribe(t *testing.T) {
	f := newFixture(t)
	r := f.do(http.MethodGet, "/dapr/subscribe", "", "")
	want := `[{"pubsubname":"pubsub","topic":"orders","route":"/events/orders","deadLetterTopic":"orders-deadletter"},` +
		`{"pubsubname":"pubsub","topic":"orders-deadletter","route":"/events/dead-letters"}]`
	if r.status != http.StatusOK || strings.TrimSpace(r.body) != want {
		t.Errorf("GET /dapr/subscribe = %d %s; want %s", r.status, r.body, want)
	}
}

// deliver posts a CloudEvent as the sidecar does and returns its answer.
func (f *fixture) deliver(t *testing.T, data string) string {
	t.Helper()
	body := `{"id":"e1","source":"ordersvc","type":"com.dapr.event.sent","specversion":"1.0","topic":"orders","pubsubname":"pubsub","datacontenttype":"application/json","data":` + data + `}`
	r := f.do(http.MethodPost, "/events/orders", "", body)
	var answer struct{ Status string }
	if err := json.Unmarshal([]byte(r.body), &answer); r.status != http.StatusOK || err != nil {
		t.Fatalf("event answer = %d %s; want 200 with a status", r.status, r.body)
	}
	return answer.Status
}

func TestOrderEvents(t *testing.T) {
	f := newFixture(t, product("A1", 3))
	created := `{"type":"order.created","order_id":"o1","user_id":"u1","items":[{"sku":"A1","quantity":2,"unit_price_cents":250}],"total_cents":500,"created_at":"2026-01-01T00:00:00Z"}`
	tests := []struct {
		name, data, want string
		available        int64
	}{
		{"created", created, "SUCCESS", 1},
		{"created again", created, "SUCCESS", 1},
		{"created as a string (outbox)", fmt.Sprintf("%q", created), "SUCCESS", 1},
		{"confirmed", `{"type":"order.confirmed","order_id":"o1"}`, "SUCCESS", 1},
		{"confirmed, never reserved", `{"type":"order.confirmed","order_id":"o9"}`, "DROP", 1},
		{"cancelled", `{"type":"order.cancelled","order_id":"o1","reason":"customer"}`, "SUCCESS", 3},
		{"unknown type ignored", `{"type":"order.shipped","order_id":"o1"}`, "SUCCESS", 3},
		{"no type", `{"order_id":"o1"}`, "DROP", 3},
		{"no lines", `{"type":"order.created","order_id":"o2","items":[]}`, "DROP", 3},
		{"fractional quantity", `{"type":"order.created","order_id":"o2","items":[{"sku":"A1","quantity":0.5}]}`, "DROP", 3},
		{"not JSON data", `"{nope"`, "DROP", 3},
		{"no data", `null`, "DROP", 3},
	}
	for _, tt := range tests {
		if got := f.deliver(t, tt.data); got != tt.want {
			t.Errorf("%s: answer %s; want %s", tt.name, got, tt.want)
		}
		checkAvailable(t, f, "A1", tt.available)
	}
	if n := len(f.pub.Published()); n != 3 {
		t.Errorf("published %d outcomes; want 3 (one per order.created delivery)", n)
	}

	f.store.Fake.FailWrite = func(string) error { return fmt.Errorf("sidecar unavailable") }
	if got := f.deliver(t, `{"type":"order.created","order_id":"o3","items":[{"sku":"A1","quantity":1}]}`); got != "RETRY" {
		t.Errorf("created with the store down: answer %s; want RETRY", got)
	}
	f.store.Fake.FailWrite = nil
	f.pub.Err = fmt.Errorf("broker down")
	if got := f.deliver(t, `{"type":"order.created","order_id":"o3","items":[{"sku":"A1","quantity":1}]}`); got != "RETRY" {
		t.Errorf("created with the broker down: answer %s; want RETRY", got)
	}
}

func TestReservationAndMetrics(t *testing.T) {
	f := newFixture(t, product("A1", 3))
	f.deliver(t, `{"type":"order.created","order_id":"o1","items":[{"sku":"A1","quantity":5},{"sku":"NOPE","quantity":1}]}`)
	admin := f.token(t, auth.RoleAdmin)
	r := f.do(http.MethodGet, "/reservations/o1", admin, "")
	want := `{"order_id":"o1","status":"rejected","outcome":"rejected","lines":[{"sku":"A1","quantity":5},{"sku":"NOPE","quantity":1}],"rejections":[{"sku":"A1","reason":"out_of_stock"},{"sku":"NOPE","reason":"unknown_product"}]}`
	if r.status != http.StatusOK || strings.TrimSpace(r.body) != want {
		t.Errorf("GET /reservations/o1 = %d %s; want %s", r.status, r.body, want)
	}
	if r := f.do(http.MethodGet, "/reservations/o2", admin, ""); r.status != http.StatusNotFound {
		t.Errorf("GET unknown reservation = %d; want 404", r.status)
	}
	r = f.do(http.MethodGet, "/metrics", "", "")
	if r.status != http.StatusOK || !strings.Contains(r.body, `inventory_reservations_total{status="rejected"} 1`) ||
		!strings.Contains(r.body, "inventory_conflicts_retried_total 0") {
		t.Errorf("GET /metrics = %d %s; want the counters", r.status, r.body)
	}
}

// Only ordersvc's events, delivered by the sidecar itself, move stock.
func TestOrderEventsOnlyFromOrdersvcThroughTheSidecar(t *testing.T) {
	f := newFixture(t, product("A1", 3))
	created := `{"type":"order.created","order_id":"evil-1","items":[{"sku":"A1","quantity":3}]}`
	forged := `{"id":"e1","source":"gateway","type":"com.dapr.event.sent","specversion":"1.0","topic":"orders","data":` + created + `}`
	r := f.do(http.MethodPost, "/events/orders", "", forged)
	if !strings.Contains(r.body, "DROP") {
		t.Errorf("event from source gateway answered %d %s; want DROP", r.status, r.body)
	}
	genuine := `{"id":"e1","source":"ordersvc","type":"com.dapr.event.sent","specversion":"1.0","topic":"orders","data":` + created + `}`
	for _, path := range []string{"/events/orders", "/events/dead-letters", "/dapr/subscribe"} {
		method := http.MethodPost
		if path == "/dapr/subscribe" {
			method = http.MethodGet
		}
		req := httptest.NewRequest(method, path, strings.NewReader(genuine))
		req.Header.Set("dapr-caller-app-id", "gateway")
		rec := httptest.NewRecorder()
		f.router.ServeHTTP(rec, req)
		if rec.Code != http.StatusNotFound || rec.Header().Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s %s invoked by the gateway = %d %s; want a 404 problem", method, path, rec.Code, rec.Body)
		}
	}
	checkAvailable(t, f, "A1", 3)
	if n := len(f.pub.Published()); n != 0 {
		t.Errorf("published %d outcomes; want none", n)
	}
}

func TestReservationIDsTheStoreRefuses(t *testing.T) {
	f := newFixture(t)
	admin := f.token(t, "admin")
	for _, id := range []string{"a||b", "%7C%7C", strings.Repeat("x", 129), "a%00b", "a%20b"} {
		r := f.do(http.MethodGet, "/reservations/"+id, admin, "")
		if r.status != http.StatusBadRequest || r.header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("GET /reservations/%s = %d %s; want a 400 problem", id, r.status, r.body)
		}
	}
}
