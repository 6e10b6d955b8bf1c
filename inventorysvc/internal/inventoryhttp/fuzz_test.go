package inventoryhttp_test

import (
	"net/http"
	"testing"
)

// FuzzRequestBodies: whatever body a client sends to a route that decodes
// one, the answer is a success or a 4xx problem, never a 5xx, and the
// product still reads.
func FuzzRequestBodies(f *testing.F) {
	routes := []struct{ method, path string }{{"POST", "/products"}, {"POST", "/products/A1/restock"}, {"POST", "/products/lookup"}}
	for i, seed := range []string{
		`{"sku":"NEW-1","name":"New","price_cents":100,"stock":5}`, `{"quantity":3}`, `{"skus":["A1","NOPE"]}`,
		`{"quantity":-1}`, `{"quantity":9223372036854775807}`, `{"skus":[]}`, `{"sku":"A||B"}`, `{"name":"a\u202eb"}`, `{`,
	} {
		f.Add(uint8(i), seed)
	}
	var fx *fixture
	var admin string
	f.Fuzz(func(t *testing.T, route uint8, body string) {
		if fx == nil {
			fx = newFixture(t, product("A1", 3))
			admin = fx.token(t, "admin")
		}
		r := routes[int(route)%len(routes)]
		res := fx.do(r.method, r.path, admin, body)
		if res.status >= 500 || (res.status >= 400 && res.header.Get("Content-Type") != "application/problem+json") {
			t.Errorf("%s %s %q = %d %s; want a success or a 4xx problem", r.method, r.path, body, res.status, res.body)
		}
		if g := fx.do(http.MethodGet, "/products/A1", "", ""); g.status != http.StatusOK {
			t.Errorf("GET /products/A1 = %d %s", g.status, g.body)
		}
	})
}
