package main

import (
	"testing"

	"shop/ordersvc/internal/order"
	"shop/ordersvc/internal/orderhttp"
	"shop/platform/auth"
	"shop/platform/openapi"
	"shop/platform/service"
)

// The document lists every route the service serves, and nothing else.
func TestOpenAPIDocumentMatchesRoutes(t *testing.T) {
	h := orderhttp.New(orderhttp.Deps{Service: order.NewService(nil, nil, nil, nil), Verifier: auth.NewVerifier(nil), TimeoutBinding: "saga-timeout"})
	r := service.Router(h, openAPI, nil)
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
