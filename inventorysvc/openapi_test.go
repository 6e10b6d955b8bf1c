package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/gorilla/mux"
	"gopkg.in/yaml.v3"

	"shop/inventorysvc/internal/inventory"
	"shop/inventorysvc/internal/inventory/inventorytest"
	"shop/inventorysvc/internal/inventoryhttp"
	"shop/platform/auth"
)

// TestOpenAPIDocumentsEveryRoute fails when a route of the router is
// missing from openapi.yaml, or the document has an operation no route
// serves.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	var doc struct {
		OpenAPI string                               `yaml:"openapi"`
		Paths   map[string]map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(openAPI, &doc); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Errorf("openapi = %q; want an OpenAPI 3 document", doc.OpenAPI)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			if method == "parameters" {
				continue
			}
			documented[strings.ToUpper(method)+" "+path] = true
			if _, ok := op["responses"]; !ok {
				t.Errorf("%s %s documents no responses", strings.ToUpper(method), path)
			}
		}
	}

	svc := inventory.NewService(inventorytest.NewStore(), &inventorytest.Publisher{})
	h := inventoryhttp.New(inventoryhttp.Config{Service: svc, Verifier: auth.NewVerifier(nil), OpenAPI: openAPI})
	router := newRouter(h, func(context.Context) error { return nil })
	served := map[string]bool{}
	err := router.Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		path, err := route.GetPathTemplate()
		if err != nil {
			return err
		}
		methods, err := route.GetMethods()
		if err != nil {
			t.Errorf("route %s accepts every method; give it one", path)
			return nil
		}
		for _, m := range methods {
			served[m+" "+path] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(served) < 10 {
		t.Fatalf("walked %d routes; the router looks empty", len(served))
	}
	for _, r := range sortedKeys(served) {
		if !documented[r] {
			t.Errorf("route %s is not in openapi.yaml", r)
		}
	}
	for _, r := range sortedKeys(documented) {
		if !served[r] {
			t.Errorf("openapi.yaml documents %s, which no route serves", r)
		}
	}
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func TestOpenAPIIsServed(t *testing.T) {
	svc := inventory.NewService(inventorytest.NewStore(), &inventorytest.Publisher{})
	h := inventoryhttp.New(inventoryhttp.Config{Service: svc, Verifier: auth.NewVerifier(nil), OpenAPI: openAPI})
	router := newRouter(h, func(context.Context) error { return nil })
	rec := httptest.NewRecorder()
	router.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/openapi.yaml", nil))
	if rec.Code != http.StatusOK || rec.Body.String() != string(openAPI) || rec.Header().Get("Content-Type") != "application/yaml" {
		t.Errorf("GET /openapi.yaml = %d %q (%d bytes); want the document", rec.Code, rec.Header().Get("Content-Type"), rec.Body.Len())
	}
}
