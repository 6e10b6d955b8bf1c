package openapi

import (
	"net/http"
	"slices"
	"testing"

	"github.com/gorilla/mux"
)

const doc = `openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /things:
    get: {responses: {"200": {description: ok}}}
    post: {responses: {"201": {description: ok}}}
  /things/{id}:
    parameters: [{name: id, in: path, required: true, schema: {type: string}}]
    get: {responses: {"200": {description: ok}}}
`

func router(extra bool) *mux.Router {
	r := mux.NewRouter()
	h := func(http.ResponseWriter, *http.Request) {}
	r.HandleFunc("/things", h).Methods(http.MethodGet)
	r.HandleFunc("/things", h).Methods(http.MethodPost)
	r.HandleFunc("/things/{id}", h).Methods(http.MethodGet)
	r.HandleFunc("/healthz", h).Methods(http.MethodGet)
	if extra {
		r.HandleFunc("/things/{id}", h).Methods(http.MethodDelete)
	}
	return r
}

func TestDiff(t *testing.T) {
	undocumented, unserved, err := Diff([]byte(doc), router(false), "/healthz")
	if err != nil || len(undocumented) != 0 || len(unserved) != 0 {
		t.Errorf("Diff(matching) = %v, %v, %v; want nothing", undocumented, unserved, err)
	}
	undocumented, _, _ = Diff([]byte(doc), router(true), "/healthz")
	if !slices.Equal(undocumented, []string{"DELETE /things/{id}"}) {
		t.Errorf("Diff(extra route) undocumented = %v; want DELETE /things/{id}", undocumented)
	}
	_, unserved, _ = Diff([]byte(doc), router(false))
	if len(unserved) != 0 {
		t.Errorf("unserved = %v", unserved)
	}
	undocumented, _, _ = Diff([]byte(doc), router(false))
	if !slices.Equal(undocumented, []string{"GET /healthz"}) {
		t.Errorf("without skip, undocumented = %v; want GET /healthz", undocumented)
	}
	r := mux.NewRouter()
	r.HandleFunc("/things", func(http.ResponseWriter, *http.Request) {}).Methods(http.MethodGet)
	_, unserved, _ = Diff([]byte(doc), r)
	if !slices.Equal(unserved, []string{"GET /things/{id}", "POST /things"}) {
		t.Errorf("unserved = %v; want GET /things/{id}, POST /things", unserved)
	}
	if _, _, err := Diff([]byte("swagger: '2.0'"), r); err == nil {
		t.Error("Diff(swagger 2) = nil error; want a refusal")
	}
}

func TestUnresolvedRefs(t *testing.T) {
	doc := `openapi: 3.0.3
paths:
  /a:
    get:
      responses:
        "200": {$ref: "#/components/responses/Ok"}
        "400": {$ref: "#/components/responses/Missing"}
      requestBody: {content: {application/json: {schema: {$ref: "#/components/schemas/Thing"}}}}
components:
  responses:
    Ok: {description: ok}
  schemas:
    Thing: {type: object}
`
	bad, err := UnresolvedRefs([]byte(doc))
	if err != nil || !slices.Equal(bad, []string{"#/components/responses/Missing"}) {
		t.Errorf("UnresolvedRefs() = %v, %v; want the one missing response", bad, err)
	}
}
