package orderhttp

import (
	"net/http"
	"testing"
)

// FuzzPlaceOrder: whatever body and Idempotency-Key a client sends to
// POST /orders, the answer is a success or a 4xx problem, never a 5xx.
func FuzzPlaceOrder(f *testing.F) {
	for _, seed := range []struct{ body, key string }{
		{`{"items":[{"sku":"BOOK","quantity":1}],"payment":{"card_token":"tok_visa"}}`, ""},
		{`{"items":[{"sku":"BOOK","quantity":1}],"payment":{"card_token":"tok_visa"}}`, "k1"},
		{`{"items":[{"sku":"BOOK","quantity":-1}],"payment":{"card_token":"tok_visa"}}`, "a||b"},
		{`{"items":[],"payment":{}}`, ""}, {`{"items":[{"sku":"A||B","quantity":1}]}`, ""}, {`{`, ""},
	} {
		f.Add(seed.body, seed.key)
	}
	var e *env
	f.Fuzz(func(t *testing.T, body, key string) {
		if e == nil {
			e = newEnv(t)
		}
		header := map[string]string{"Content-Type": "application/json"}
		if key != "" {
			header["Idempotency-Key"] = key
		}
		rec := e.do(http.MethodPost, "/orders", e.token("alice", "customer"), body, header)
		if rec.Code >= 500 || (rec.Code >= 400 && rec.Header().Get("Content-Type") != "application/problem+json") {
			t.Errorf("POST /orders %q (Idempotency-Key %q) = %d %s; want a success or a 4xx problem", body, key, rec.Code, rec.Body)
		}
	})
}
