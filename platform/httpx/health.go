package httpx

import (
	"context"
	"net/http"
	"time"

	"github.com/gorilla/mux"
)

// HandleHealth registers GET /healthz (the process is alive) and GET /readyz
// (ready answers nil within two seconds).
func HandleHealth(r *mux.Router, ready func(context.Context) error) {
	r.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	}).Methods(http.MethodGet)
	r.HandleFunc("/readyz", func(w http.ResponseWriter, req *http.Request) {
		ctx, cancel := context.WithTimeout(req.Context(), 2*time.Second)
		defer cancel()
		if err := ready(ctx); err != nil {
			WriteProblem(w, NewProblem(http.StatusServiceUnavailable, "not ready: "+err.Error()))
			return
		}
		WriteJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	}).Methods(http.MethodGet)
}

// NewRouter returns a gorilla router whose unknown routes and wrong methods
// answer with problem details.
func NewRouter() *mux.Router {
	r := mux.NewRouter()
	r.NotFoundHandler = NotFoundHandler()
	r.MethodNotAllowedHandler = MethodNotAllowedHandler()
	return r
}
