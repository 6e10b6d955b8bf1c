package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gorilla/mux"
	"gopkg.in/yaml.v3"

	"shop/inventorysvc/internal/inventory"
	"shop/inventorysvc/internal/inventory/inventorytest"
	"shop/inventorysvc/internal/inventoryhttp"
	"shop/platform/auth"
	"shop/platform/events"
	"shop/platform/openapi"
	"shop/platform/service"
)

// testRouter is the service's router on fakes.
func testRouter() *mux.Router {
	svc := inventory.NewService(inventorytest.NewStore(), &inventorytest.Publisher{})
	h := inventoryhttp.New(inventoryhttp.Deps{Service: svc, Verifier: auth.NewVerifier(nil), DeadLetters: events.NewDeadLetters(nil, "s")})
	return service.Router(h, openAPI, func(context.Context) error { return nil })
}

// TestOpenAPIDocumentsEveryRoute fails when a route of the router is
// missing from openapi.yaml, or the document has an operation no route
// serves, or a $ref that resolves to nothing.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	undocumented, unserved, err := openapi.Diff(openAPI, testRouter())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range undocumented {
		t.Errorf("route %s is not in openapi.yaml", r)
	}
	for _, r := range unserved {
		t.Errorf("openapi.yaml documents %s, which no route serves", r)
	}
	bad, err := openapi.UnresolvedRefs(openAPI)
	if err != nil || len(bad) > 0 {
		t.Errorf("openapi.yaml $refs that resolve to nothing: %v (%v)", bad, err)
	}
	var doc struct {
		Paths map[string]map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(openAPI, &doc); err != nil {
		t.Fatal(err)
	}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			if _, ok := op["responses"]; method != "parameters" && !ok {
				t.Errorf("%s %s documents no responses", strings.ToUpper(method), path)
			}
		}
	}
}

func TestOpenAPIIsServed(t *testing.T) {
	router := testRouter()
	rec := httptest.NewRecorder()
	router.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/openapi.yaml", nil))
	if rec.Code != http.StatusOK || rec.Body.String() != string(openAPI) || rec.Header().Get("Content-Type") != "application/yaml" {
		t.Errorf("GET /openapi.yaml = %d %q (%d bytes); want the document", rec.Code, rec.Header().Get("Content-Type"), rec.Body.Len())
	}
}
