package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"shop/e2e/harness"
)

type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Errors []struct {
		Field  string `json:"field"`
		Detail string `json:"detail"`
	} `json:"errors"`
}

// checkProblem asserts that resp is a problem-details answer with status
// want, and that it names field when field is not empty.
func checkProblem(t *testing.T, what string, resp *harness.Response, want int, field string) {
	t.Helper()
	if resp.Status != want {
		t.Errorf("%s = %d %s; want %d", what, resp.Status, resp.Body, want)
		return
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("%s Content-Type = %q; want application/problem+json", what, ct)
	}
	var p problem
	if err := json.Unmarshal(resp.Body, &p); err != nil {
		t.Errorf("%s body %q is not JSON: %v", what, resp.Body, err)
		return
	}
	if p.Status != want || p.Title == "" || p.Type == "" {
		t.Errorf("%s problem = %+v; want status %d with type and title", what, p, want)
	}
	if field == "" {
		return
	}
	for _, e := range p.Errors {
		if e.Field == field {
			return
		}
	}
	t.Errorf("%s problem errors = %+v; want one naming %q", what, p.Errors, field)
}

func TestMalformedRequestsGetProblems(t *testing.T) {
	tests := []struct {
		name   string
		req    harness.Request
		status int
		field  string
	}{
		{"bad page size", harness.Request{Method: http.MethodGet, Service: "inventorysvc", Path: "/products?page_size=1000"}, 400, "page_size"},
		{"bad page token", harness.Request{Method: http.MethodGet, Service: "inventorysvc", Path: "/products?page_token=not-a-token!"}, 400, "page_token"},
		{"bad sku", harness.Request{Method: http.MethodGet, Service: "inventorysvc", Path: "/products/not%20a%20sku"}, 400, "sku"},
		{"unknown sku", harness.Request{Method: http.MethodGet, Service: "inventorysvc", Path: "/products/NO-SUCH-SKU"}, 404, ""},
		{"unknown route", harness.Request{Method: http.MethodGet, Service: "inventorysvc", Path: "/nope"}, 404, ""},
		{"wrong method", harness.Request{Method: http.MethodDelete, Service: "inventorysvc", Path: "/products/BOOK-GO"}, 405, ""},
		{"users unknown route", harness.Request{Method: http.MethodGet, Service: "usersvc", Path: "/nope"}, 404, ""},
		{"orders unknown route", harness.Request{Method: http.MethodGet, Service: "ordersvc", Path: "/nope"}, 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := sys.Do(context.Background(), tt.req)
			if err != nil {
				t.Fatal(err)
			}
			checkProblem(t, tt.req.Method+" "+tt.req.Path, resp, tt.status, tt.field)
		})
	}
}
