// Package userhttp serves the user API: routes, JSON in and out, and
// problem details for every error.
package userhttp

import (
	"net/http"

	"github.com/gorilla/mux"

	"shop/platform/auth"
	"shop/platform/httpx"
)

// KeySet provides the public keys that verify issued tokens.
type KeySet interface {
	JWKS() auth.JWKS
}

// Handler serves the user routes.
type Handler struct {
	keys KeySet
}

// New returns the user API handler.
func New(keys KeySet) *Handler {
	return &Handler{keys: keys}
}

// Register adds the user routes to r.
func (h *Handler) Register(r *mux.Router) {
	r.HandleFunc("/.well-known/jwks.json", h.jwks).Methods(http.MethodGet)
}

func (h *Handler) jwks(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Cache-Control", "public, max-age=300")
	httpx.WriteJSON(w, http.StatusOK, h.keys.JWKS())
}
