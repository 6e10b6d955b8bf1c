package e2e

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"shop/e2e/harness"
)

// route is one public route of the system, with a valid body to vary.
type route struct {
	svc, method, path string
	// body is a valid request body (nil: the route takes none); its
	// string fields and numbers are what the corpus varies.
	body map[string]any
	// token is the role the route needs ("" none, "customer", "admin").
	token string
}

// badBodies are the body cases every route with a body gets: each must be
// refused with a 4xx problem.
func badBodies(valid map[string]any) map[string]string {
	cases := map[string]string{
		"empty":                 ``,
		"malformed JSON":        `{"a":`,
		"not an object":         `[1,2,3]`,
		"a string":              `"hello"`,
		"null":                  `null`,
		"two objects":           `{}{}`,
		"unknown field":         merge(valid, map[string]any{"role": "admin"}),
		"huge body":             `{"x":"` + strings.Repeat("a", 3<<19) + `"}`,
		"deeply nested":         strings.Repeat(`{"a":`, 5000) + `1` + strings.Repeat(`}`, 5000),
		"deeply nested array":   `{"items":` + strings.Repeat(`[`, 10000) + strings.Repeat(`]`, 10000) + `}`,
		"invalid UTF-8":         "{\"name\":\"\xff\xfe\"}",
		"trailing garbage":      merge(valid, nil) + `garbage`,
		"NUL byte outside JSON": "\x00" + merge(valid, nil),
	}
	for k, v := range valid {
		switch v.(type) {
		case string:
			cases[k+": a number"] = merge(valid, map[string]any{k: 42})
			cases[k+": an object"] = merge(valid, map[string]any{k: map[string]any{"$gt": ""}})
			cases[k+": over-long"] = merge(valid, map[string]any{k: strings.Repeat("x", 100_000)})
			cases[k+": control character"] = merge(valid, map[string]any{k: "a\u0000b"})
			cases[k+": escape sequence"] = merge(valid, map[string]any{k: "a\u001b[2Jb"})
			cases[k+": zero-width"] = merge(valid, map[string]any{k: "a\u200bb"})
			cases[k+": bidi override"] = merge(valid, map[string]any{k: "a\u202eb"})
			if k == "sku" || k == "email" { // fields that name a key
				cases[k+": key separator"] = merge(valid, map[string]any{k: "a||b"})
			}
		case float64, int:
			cases[k+": negative"] = merge(valid, map[string]any{k: -1})
			cases[k+": a string"] = merge(valid, map[string]any{k: "12"})
			cases[k+": fraction"] = merge(valid, map[string]any{k: 1.5})
			cases[k+": overflowing"] = strings.Replace(merge(valid, map[string]any{k: 0}), `"`+k+`":0`, `"`+k+`":9223372036854775808`, 1)
			cases[k+": huge exponent"] = strings.Replace(merge(valid, map[string]any{k: 0}), `"`+k+`":0`, `"`+k+`":1e400`, 1)
		case []any:
			cases[k+": empty"] = merge(valid, map[string]any{k: []any{}})
			cases[k+": not a list"] = merge(valid, map[string]any{k: "x"})
		}
	}
	return cases
}

// merge returns valid with the changes applied (a nil value deletes), as
// JSON.
func merge(valid, changes map[string]any) string {
	m := map[string]any{}
	for k, v := range valid {
		m[k] = v
	}
	for k, v := range changes {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// badTokens are the Authorization headers every authenticated route must
// refuse with 401.
func badTokens(t *testing.T, userID string) map[string]string {
	now := time.Now()
	claims := func(change map[string]any) jwt.MapClaims {
		c := jwt.MapClaims{"sub": userID, "role": "customer", "iss": "usersvc", "aud": "shop", "iat": now.Unix(), "exp": now.Add(10 * time.Minute).Unix()}
		for k, v := range change {
			if v == nil {
				delete(c, k)
			} else {
				c[k] = v
			}
		}
		return c
	}
	valid := forgeToken(t, jwt.SigningMethodEdDSA, claims(nil))
	parts := strings.Split(valid, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(payload), `"customer"`, `"admin"`, 1))) + "." + parts[2]
	_, otherKey, _ := ed25519.GenerateKey(nil)
	wrongKey := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims(nil))
	header, _ := base64.RawURLEncoding.DecodeString(parts[0])
	var h map[string]any
	_ = json.Unmarshal(header, &h)
	wrongKey.Header["kid"] = h["kid"]
	wrongKeyToken, err := wrongKey.SignedString(otherKey)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{
		"missing token":        "",
		"not a bearer":         "Basic YWRtaW46YWRtaW4=",
		"empty bearer":         "Bearer ",
		"garbage":              "Bearer not.a.token",
		"expired":              "Bearer " + forgeToken(t, jwt.SigningMethodEdDSA, claims(map[string]any{"exp": now.Add(-time.Hour).Unix()})),
		"no expiry":            "Bearer " + forgeToken(t, jwt.SigningMethodEdDSA, claims(map[string]any{"exp": nil})),
		"tampered":             "Bearer " + tampered,
		"alg none":             "Bearer " + forgeToken(t, jwt.SigningMethodNone, claims(nil)),
		"wrong key, same kid":  "Bearer " + wrongKeyToken,
		"wrong audience":       "Bearer " + forgeToken(t, jwt.SigningMethodEdDSA, claims(map[string]any{"aud": "another-app"})),
		"wrong issuer":         "Bearer " + forgeToken(t, jwt.SigningMethodEdDSA, claims(map[string]any{"iss": "evil"})),
		"unknown role":         "Bearer " + forgeToken(t, jwt.SigningMethodEdDSA, claims(map[string]any{"role": "root"})),
		"signature stripped":   "Bearer " + parts[0] + "." + parts[1] + ".",
		"over-long":            "Bearer " + strings.Repeat("a", 6000),
		"tab inside":           "Bearer a\tb",
		"huge kid":             "Bearer " + base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"EdDSA","kid":"`+strings.Repeat("k", 3000)+`"}`)) + "." + parts[1] + "." + parts[2],
		"valid token, wrong t": "Bearer " + valid + "x",
	}
}

// badIDs are path segments no id can be, each a 4xx problem where an id
// goes.
var badIDs = map[string]string{
	"key separator": "a%7C%7Cb",
	"over-long":     strings.Repeat("x", 2000),
	"zero-width":    "a%E2%80%8Bb",
	"bidi override": "a%E2%80%AEb",
	"spaces":        "a%20b",
	"dot segments":  "..%2F..%2Fdapr%2Fsubscribe",
}

// gatewayBadIDs are path segments that daprd cannot forward (gRPC carries
// no control characters or invalid UTF-8): the gateway's route check
// refuses them.
var gatewayBadIDs = map[string]string{
	"control character": "a%01b",
	"NUL":               "a%00b",
	"invalid UTF-8":     "a%FFb",
}

// TestBadInputIsRefusedEverywhere sends a corpus of bad input to every
// public route: each case must be a 4xx problem (never a 5xx), and nothing
// may change.
func TestBadInputIsRefusedEverywhere(t *testing.T) {
	ctx := context.Background()
	userID, customer := newCustomer(t)
	admin := adminToken(t)
	sku := newProduct(t, 7)
	o := placeOrder(t, customer, orderBody("tok_visa", line{SKU: sku, Quantity: 1}))
	awaitOrder(t, customer, o.ID, "confirmed", "charged")
	tokens := map[string]string{"customer": "Bearer " + customer, "admin": "Bearer " + admin}

	routes := []route{
		{svc: "usersvc", method: http.MethodPost, path: "/users", body: map[string]any{"email": uniqueEmail("bad"), "password": "a long password", "name": "Ann"}},
		{svc: "usersvc", method: http.MethodPost, path: "/auth/token", body: map[string]any{"email": uniqueEmail("nobody"), "password": "a long password"}},
		{svc: "usersvc", method: http.MethodGet, path: "/users/me", token: "customer"},
		{svc: "usersvc", method: http.MethodPatch, path: "/users/me", body: map[string]any{"name": "Ann"}, token: "customer"},
		{svc: "usersvc", method: http.MethodGet, path: "/users/{id}", token: "customer"},
		{svc: "inventorysvc", method: http.MethodGet, path: "/products/{id}"},
		{svc: "inventorysvc", method: http.MethodPost, path: "/products", body: map[string]any{"sku": "BAD-" + strings.ToUpper(uniqueID("x")[len(uniqueID("x"))-6:]), "name": "Thing", "price_cents": 100, "stock": 1}, token: "admin"},
		{svc: "inventorysvc", method: http.MethodPost, path: "/products/{id}/restock", body: map[string]any{"quantity": 1}, token: "admin"},
		{svc: "inventorysvc", method: http.MethodPost, path: "/products/lookup", body: map[string]any{"skus": []any{sku}}},
		{svc: "inventorysvc", method: http.MethodGet, path: "/reservations/{id}", token: "admin"},
		{svc: "inventorysvc", method: http.MethodGet, path: "/dead-letters", token: "admin"},
		{svc: "ordersvc", method: http.MethodPost, path: "/orders", body: map[string]any{"items": []any{map[string]any{"sku": sku, "quantity": 1}}, "payment": map[string]any{"card_token": "tok_visa"}}, token: "customer"},
		{svc: "ordersvc", method: http.MethodGet, path: "/orders", token: "customer"},
		{svc: "ordersvc", method: http.MethodGet, path: "/orders/{id}", token: "customer"},
		{svc: "ordersvc", method: http.MethodPost, path: "/orders/{id}/cancel", token: "customer"},
		{svc: "ordersvc", method: http.MethodGet, path: "/dead-letters", token: "admin"},
	}
	validID := map[string]string{"usersvc": userID, "inventorysvc": sku, "ordersvc": o.ID}

	// State before, read back after.
	snapshot := func() string {
		var b strings.Builder
		for _, r := range []harness.Request{
			{Method: http.MethodGet, Service: "usersvc", Path: "/users/me", Header: bearer(customer)},
			{Method: http.MethodGet, Service: "inventorysvc", Path: "/products/" + sku},
			{Method: http.MethodGet, Service: "inventorysvc", Path: "/products?page_size=100"},
			{Method: http.MethodGet, Service: "ordersvc", Path: "/orders", Header: bearer(customer)},
			{Method: http.MethodGet, Service: "ordersvc", Path: "/orders/" + o.ID, Header: bearer(customer)},
		} {
			resp := call(t, r)
			fmt.Fprintf(&b, "%s %s: %d %s\n", r.Service, r.Path, resp.Status, resp.Body)
		}
		return b.String()
	}
	before := snapshot()

	tried, refusedCount, atGateway := 0, 0, 0
	outcomes := map[int]int{}
	// send checks one case; t is the case's group.
	send := func(t *testing.T, what string, req harness.Request) {
		t.Helper()
		resp, err := sys.Do(ctx, req)
		if err != nil {
			t.Errorf("%s: %v", what, err)
			return
		}
		tried++
		outcomes[resp.Status]++
		problem := resp.Header.Get("Content-Type") == "application/problem+json"
		if resp.Status/100 != 4 || !problem {
			t.Errorf("%s = %d %q %.200s; want a 4xx problem", what, resp.Status, resp.Header.Get("Content-Type"), resp.Body)
			return
		}
		refusedCount++
	}
	// group runs one group of cases as a subtest, so that a failing group
	// names itself.
	group := func(name string, cases func(t *testing.T)) { t.Run(name, cases) }

	group("every public route", func(t *testing.T) {
		for _, r := range routes {
			path := strings.ReplaceAll(r.path, "{id}", validID[r.svc])
			header := func(role string) http.Header {
				h := http.Header{"Content-Type": {"application/json"}}
				if role != "" {
					h.Set("Authorization", tokens[role])
				}
				return h
			}
			name := r.svc + " " + r.method + " " + r.path
			if r.body != nil {
				for c, body := range badBodies(r.body) {
					send(t, name+" body "+c, harness.Request{Method: r.method, Service: r.svc, Path: path, Body: []byte(body), Header: header(r.token)})
				}
				h := header(r.token)
				h.Set("Content-Type", "text/plain")
				send(t, name+" wrong content type", harness.Request{Method: r.method, Service: r.svc, Path: path, Body: []byte(merge(r.body, nil)), Header: h})
			}
			if r.token != "" {
				for c, auth := range badTokens(t, userID) {
					h := header("")
					if auth != "" {
						h.Set("Authorization", auth)
					}
					var body []byte
					if r.body != nil {
						body = []byte(merge(r.body, nil))
					}
					send(t, name+" token "+c, harness.Request{Method: r.method, Service: r.svc, Path: path, Body: body, Header: h})
				}
			}
			if r.token == "admin" {
				var body []byte
				if r.body != nil {
					body = []byte(merge(r.body, nil))
				}
				send(t, name+" customer token on an admin route", harness.Request{Method: r.method, Service: r.svc, Path: path, Body: body, Header: header("customer")})
			}
			if strings.Contains(r.path, "{id}") {
				for c, id := range badIDs {
					var body []byte
					if r.body != nil {
						body = []byte(merge(r.body, nil))
					}
					send(t, name+" id "+c, harness.Request{Method: r.method, Service: r.svc, Path: strings.ReplaceAll(r.path, "{id}", id), Body: body, Header: header(r.token)})
				}
			}
		}
	})
	group("gateway-level ids", func(t *testing.T) {
		// daprd forwards an invocation's path over gRPC, which cannot carry
		// control characters or invalid UTF-8: the gateway's route check
		// (components/gateway/routes.yaml) refuses those paths itself, 400
		// "invalid router" in daprd's words, before any app sees them.
		// Anything else about an id (zero-width, bidi, key separators) is
		// the app's to answer, in the groups above.
		for _, r := range routes {
			if !strings.Contains(r.path, "{id}") {
				continue
			}
			for c, id := range gatewayBadIDs {
				what := r.svc + " " + r.method + " " + r.path + " id " + c
				req := harness.Request{Method: r.method, Service: r.svc, Path: strings.ReplaceAll(r.path, "{id}", id), Header: http.Header{"Authorization": {tokens[r.token]}}}
				resp, err := sys.Do(ctx, req)
				if err != nil {
					t.Fatal(err)
				}
				tried++
				outcomes[resp.Status]++
				if resp.Status != http.StatusBadRequest || strings.TrimSpace(string(resp.Body)) != "invalid router" {
					t.Errorf("%s = %d %.200s; want the gateway's 400 invalid router", what, resp.Status, resp.Body)
					continue
				}
				refusedCount++
				atGateway++
			}
		}
	})
	group("query parameters", func(t *testing.T) {
		for c, q := range map[string]string{
			"page_size negative": "page_size=-1", "page_size overflowing": "page_size=9223372036854775808", "page_size not a number": "page_size=ten",
			"page_token garbage": "page_token=%FF%FE", "page_token key separator": "page_token=" + base64.RawURLEncoding.EncodeToString([]byte("a||b")),
			"page_token over-long": "page_token=" + strings.Repeat("A", 4000),
		} {
			send(t, "inventorysvc GET /products "+c, harness.Request{Method: http.MethodGet, Service: "inventorysvc", Path: "/products?" + q})
			send(t, "ordersvc GET /orders "+c, harness.Request{Method: http.MethodGet, Service: "ordersvc", Path: "/orders?" + q, Header: bearer(customer)})
		}
	})
	orderJSON := merge(map[string]any{"items": []any{map[string]any{"sku": sku, "quantity": 1}}, "payment": map[string]any{"card_token": "tok_visa"}}, nil)
	group("Idempotency-Key", func(t *testing.T) {
		for c, key := range map[string]string{
			"key separator": "a||b", "over-long": strings.Repeat("k", 2000), "tab": "a\tb", "zero-width": "a\u200bb", "bidi override": "a\u202eb",
		} {
			h := bearer(customer)
			h.Set("Idempotency-Key", key)
			send(t, "ordersvc POST /orders Idempotency-Key "+c, harness.Request{Method: http.MethodPost, Service: "ordersvc", Path: "/orders", Body: []byte(orderJSON), Header: h})
		}
	})
	group("order lines", func(t *testing.T) {
		for c, body := range map[string]string{
			"quantity zero":        strings.Replace(orderJSON, `"quantity":1`, `"quantity":0`, 1),
			"quantity negative":    strings.Replace(orderJSON, `"quantity":1`, `"quantity":-5`, 1),
			"quantity overflowing": strings.Replace(orderJSON, `"quantity":1`, `"quantity":9223372036854775807`, 1),
			"sku key separator":    strings.Replace(orderJSON, sku, "A||B", 1),
			"sku bidi":             strings.Replace(orderJSON, sku, "A\u202eB", 1),
			"no payment":           merge(map[string]any{"items": []any{map[string]any{"sku": sku, "quantity": 1}}}, nil),
			"unknown item field":   strings.Replace(orderJSON, `"quantity":1`, `"quantity":1,"unit_price_cents":1`, 1),
		} {
			send(t, "ordersvc POST /orders "+c, harness.Request{Method: http.MethodPost, Service: "ordersvc", Path: "/orders", Body: []byte(body), Header: bearer(customer)})
		}

	})

	t.Logf("bad-input cases: %d tried, %d refused (%d with a 4xx problem from the app, %d by the gateway's route check before any app), %d not; by status: %v",
		tried, refusedCount, refusedCount-atGateway, atGateway, tried-refusedCount, outcomes)
	if after := snapshot(); after != before {
		t.Errorf("the state changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}
