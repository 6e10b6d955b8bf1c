package main

import (
	_ "embed"
	"net/http"

	"github.com/gorilla/mux"
)

// openAPI is the service's API document, served at GET /openapi.yaml.
//
//go:embed openapi.yaml
var openAPI []byte

func handleOpenAPI(r *mux.Router) {
	r.HandleFunc("/openapi.yaml", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/yaml")
		_, _ = w.Write(openAPI)
	}).Methods(http.MethodGet)
}
