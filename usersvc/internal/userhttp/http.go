// Package userhttp serves the user API: routes, JSON in and out, and
// problem details for every error.
package userhttp

import (
	"errors"
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"shop/platform/auth"
	"shop/platform/httpx"
	"shop/platform/validation"
	"shop/usersvc/internal/user"
)

// Tokens issues access tokens and publishes the keys that verify them.
type Tokens interface {
	Issue(userID, role string, now time.Time, ttl time.Duration) (string, error)
	JWKS() auth.JWKS
}

// Deps is what the handler needs.
type Deps struct {
	Service *user.Service
	// Tokens issues the access tokens, which live for TokenTTL.
	Tokens   Tokens
	TokenTTL time.Duration
	// Verifier checks the access tokens of the routes that need a caller.
	Verifier *auth.Verifier
}

// Handler serves the user routes.
type Handler struct {
	deps Deps
	svc  *user.Service
	now  func() time.Time
}

// New returns the user API handler.
func New(deps Deps) *Handler {
	return &Handler{deps: deps, svc: deps.Service, now: time.Now}
}

// Register adds the user routes to r.
func (h *Handler) Register(r *mux.Router) {
	authn := func(f http.HandlerFunc) http.Handler { return h.deps.Verifier.Authenticate(f) }
	r.HandleFunc("/.well-known/jwks.json", h.jwks).Methods(http.MethodGet)
	r.HandleFunc("/users", h.register).Methods(http.MethodPost)
	r.HandleFunc("/auth/token", h.token).Methods(http.MethodPost)
	// /users/me before /users/{id}, which would match it too.
	r.Handle("/users/me", authn(h.me)).Methods(http.MethodGet)
	r.Handle("/users/me", authn(h.updateMe)).Methods(http.MethodPatch)
	r.Handle("/users/{id}", authn(h.getUser)).Methods(http.MethodGet)
}

func (h *Handler) jwks(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Cache-Control", "public, max-age=300")
	httpx.WriteJSON(w, http.StatusOK, h.deps.Tokens.JWKS())
}

// userJSON is an account as clients see it: never a password field.
type userJSON struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Role      string    `json:"role"`
	CreatedAt time.Time `json:"created_at"`
}

func toJSON(u user.User) userJSON {
	return userJSON{ID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role, CreatedAt: u.CreatedAt.UTC()}
}

func (h *Handler) register(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Email    string `json:"email"`
		Password string `json:"password"`
		Name     string `json:"name"`
	}
	if p := httpx.DecodeJSON(w, r, &in); p != nil {
		httpx.WriteProblem(w, p)
		return
	}
	if p := httpx.CheckTexts(map[string]string{"email": in.Email, "name": in.Name}); p != nil {
		httpx.WriteProblem(w, p)
		return
	}
	u, err := h.svc.Register(r.Context(), in.Email, in.Password, in.Name)
	if errors.Is(err, user.ErrNotPublished) {
		// The account exists; only its event is missing. Say so in the
		// log, and give the client its account.
		httpx.Logger(r.Context()).WithError(err).WithField("user_id", u.ID).Error("user registered without its event")
		err = nil
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/users/"+u.ID)
	httpx.WriteJSON(w, http.StatusCreated, toJSON(u))
}

// tokenJSON is an OAuth 2.0 style token response (RFC 6749 section 5.1).
type tokenJSON struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
}

func (h *Handler) token(w http.ResponseWriter, r *http.Request) {
	// Neither a token nor a refusal may be cached (RFC 6749 section 5.1).
	w.Header().Set("Cache-Control", "no-store")
	var in struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	if p := httpx.DecodeJSON(w, r, &in); p != nil {
		httpx.WriteProblem(w, p)
		return
	}
	var missing []validation.FieldError
	if in.Email == "" {
		missing = append(missing, validation.FieldError{Field: "email", Detail: "is required"})
	}
	if in.Password == "" {
		missing = append(missing, validation.FieldError{Field: "password", Detail: "is required"})
	}
	if len(missing) > 0 {
		httpx.WriteProblem(w, httpx.Invalid(missing...))
		return
	}
	u, err := h.svc.Authenticate(r.Context(), in.Email, in.Password)
	if errors.Is(err, user.ErrInvalidCredentials) {
		// One answer for an unknown email and a wrong password.
		httpx.WriteProblem(w, httpx.NewProblem(http.StatusUnauthorized, user.ErrInvalidCredentials.Error()))
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	tok, err := h.deps.Tokens.Issue(u.ID, u.Role, h.now(), h.deps.TokenTTL)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, tokenJSON{AccessToken: tok, TokenType: "Bearer", ExpiresIn: int64(h.deps.TokenTTL / time.Second)})
}

func (h *Handler) me(w http.ResponseWriter, r *http.Request) {
	c, _ := auth.FromContext(r.Context())
	u, err := h.svc.Get(r.Context(), c.Subject)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, toJSON(u))
}

func (h *Handler) updateMe(w http.ResponseWriter, r *http.Request) {
	// Only the name can change here; email, role and password are unknown
	// fields, which DecodeJSON refuses by name.
	var in struct {
		Name *string `json:"name"`
	}
	if p := httpx.DecodeJSON(w, r, &in); p != nil {
		httpx.WriteProblem(w, p)
		return
	}
	if in.Name == nil {
		httpx.WriteProblem(w, httpx.Invalid(validation.FieldError{Field: "name", Detail: "is required"}))
		return
	}
	if p := httpx.CheckTexts(map[string]string{"name": *in.Name}); p != nil {
		httpx.WriteProblem(w, p)
		return
	}
	c, _ := auth.FromContext(r.Context())
	u, err := h.svc.Rename(r.Context(), c.Subject, *in.Name)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, toJSON(u))
}

func (h *Handler) getUser(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	c, _ := auth.FromContext(r.Context())
	if id != c.Subject && !c.IsAdmin() {
		// 404, not 403: a customer learns nothing of other accounts.
		h.fail(w, r, user.ErrNotFound)
		return
	}
	u, err := h.svc.Get(r.Context(), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, toJSON(u))
}

// fail answers a domain error with its problem: validation 400, not found
// 404, taken email and lost races 409, anything else a logged 500.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	var invalid validation.Errors
	switch {
	case errors.As(err, &invalid):
		httpx.WriteProblem(w, httpx.InvalidFields(invalid))
	case errors.Is(err, user.ErrNotFound):
		httpx.WriteProblem(w, httpx.NewProblem(http.StatusNotFound, "no such user"))
	case errors.Is(err, user.ErrEmailTaken):
		httpx.WriteProblem(w, httpx.NewProblem(http.StatusConflict, "an account with this email already exists",
			validation.FieldError{Field: "email", Detail: "is already registered"}))
	case errors.Is(err, user.ErrConflict):
		httpx.WriteProblem(w, httpx.NewProblem(http.StatusConflict, "the account changed concurrently; try again"))
	default:
		httpx.Logger(r.Context()).WithError(err).Error("request failed")
		httpx.WriteProblem(w, httpx.NewProblem(http.StatusInternalServerError, "internal error"))
	}
}
