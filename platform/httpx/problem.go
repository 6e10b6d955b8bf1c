// Package httpx holds the HTTP plumbing the three services share: RFC 9457
// problem details, strict JSON decoding, request logging, the Dapr app API
// token check, health endpoints and a server that shuts down gracefully.
package httpx

import (
	"encoding/json"
	"net/http"

	"shop/platform/validation"
)

// Problem is an RFC 9457 problem details body. It is also an error, so that
// domain and decoding code can return it and handlers can write it as is.
type Problem struct {
	Type   string                  `json:"type"`
	Title  string                  `json:"title"`
	Status int                     `json:"status"`
	Detail string                  `json:"detail,omitempty"`
	Errors []validation.FieldError `json:"errors,omitempty"`
}

func (p *Problem) Error() string {
	if p.Detail != "" {
		return p.Title + ": " + p.Detail
	}
	return p.Title
}

// NewProblem returns a problem of the given status whose type and title come
// from the status code.
func NewProblem(status int, detail string, errs ...validation.FieldError) *Problem {
	return &Problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: detail, Errors: errs}
}

// Invalid is a 400 problem listing the bad fields.
func Invalid(errs ...validation.FieldError) *Problem {
	return NewProblem(http.StatusBadRequest, "the request has invalid fields", errs...)
}

// InvalidFields is the 400 problem of the bad fields a domain reported.
func InvalidFields(v validation.Errors) *Problem { return Invalid(v...) }

// WriteProblem writes p as application/problem+json.
func WriteProblem(w http.ResponseWriter, p *Problem) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

// WriteJSON writes v as JSON with the given status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// NotFoundHandler answers unknown routes with a 404 problem.
func NotFoundHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		WriteProblem(w, NewProblem(http.StatusNotFound, "no such resource: "+r.URL.Path))
	})
}

// MethodNotAllowedHandler answers a known route called with the wrong method.
func MethodNotAllowedHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		WriteProblem(w, NewProblem(http.StatusMethodNotAllowed, r.Method+" is not allowed on "+r.URL.Path))
	})
}
