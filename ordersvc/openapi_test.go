package main

import (
	"testing"

	"shop/ordersvc/internal/order"
	"shop/ordersvc/internal/orderhttp"
	"shop/platform/auth"
	"shop/platform/httpx"
	"shop/platform/openapi"
)

// The document lists every route the service serves, and nothing else.
func TestOpenAPIDocumentMatchesRoutes(t *testing.T) {
	r := httpx.NewRouter()
	h := orderhttp.New(order.NewService(nil, nil, nil, nil), nil, auth.NewVerifier(nil), nil, orderhttp.Config{TimeoutBinding: "saga-timeout"})
	routes(r, h)
	undocumented, unserved, err := openapi.Diff(openAPI, r)
	if err != nil {
		t.Fatal(err)
	}
	if len(undocumented) > 0 {
		t.Errorf("routes missing from openapi.yaml: %v", undocumented)
	}
	if len(unserved) > 0 {
		t.Errorf("openapi.yaml documents routes the service does not serve: %v", unserved)
	}
	bad, err := openapi.UnresolvedRefs(openAPI)
	if err != nil || len(bad) > 0 {
		t.Errorf("openapi.yaml $refs that resolve to nothing: %v (%v)", bad, err)
	}
}
