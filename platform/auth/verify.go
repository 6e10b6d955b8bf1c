package auth

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"shop/platform/httpx"
)

// Roles.
const (
	RoleCustomer = "customer"
	RoleAdmin    = "admin"
)

// Token parameters every service agrees on.
const (
	Issuer   = "usersvc"
	Audience = "shop"
)

// Claims are the verified facts of an access token.
type Claims struct {
	Subject string // the user id
	Role    string
}

// IsAdmin reports whether the caller has the admin role.
func (c Claims) IsAdmin() bool { return c.Role == RoleAdmin }

// ErrUnauthenticated is any reason a token is not accepted.
var ErrUnauthenticated = errors.New("invalid or missing access token")

// KeySource fetches the current public keys.
type KeySource func(ctx context.Context) (JWKS, error)

// Verifier checks access tokens against the keys of a KeySource. It caches
// the keys and fetches them again when a token names an unknown key id, at
// most once per minRefresh, so a flood of forged kids cannot hammer usersvc.
type Verifier struct {
	source     KeySource
	now        func() time.Time
	minRefresh time.Duration

	mu      sync.Mutex
	keys    map[string]ed25519.PublicKey
	fetched time.Time
}

// NewVerifier returns a verifier of tokens signed by the keys source gives.
func NewVerifier(source KeySource) *Verifier {
	return &Verifier{source: source, now: time.Now, minRefresh: 10 * time.Second}
}

// Verify checks signature (EdDSA only: "none" and every other algorithm are
// refused), expiry, issuer and audience, and returns the claims.
func (v *Verifier) Verify(ctx context.Context, token string) (Claims, error) {
	var claims struct {
		jwt.RegisteredClaims
		Role string `json:"role"`
	}
	_, err := jwt.ParseWithClaims(token, &claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		return v.key(ctx, kid)
	},
		jwt.WithValidMethods([]string{"EdDSA"}),
		jwt.WithIssuer(Issuer),
		jwt.WithAudience(Audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(30*time.Second),
		jwt.WithTimeFunc(v.now),
	)
	if err != nil {
		return Claims{}, fmt.Errorf("%w: %v", ErrUnauthenticated, err)
	}
	if claims.Subject == "" || (claims.Role != RoleCustomer && claims.Role != RoleAdmin) {
		return Claims{}, fmt.Errorf("%w: missing subject or unknown role", ErrUnauthenticated)
	}
	return Claims{Subject: claims.Subject, Role: claims.Role}, nil
}

func (v *Verifier) key(ctx context.Context, kid string) (ed25519.PublicKey, error) {
	if kid == "" {
		return nil, errors.New("token has no kid")
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if k, ok := v.keys[kid]; ok {
		return k, nil
	}
	if !v.fetched.IsZero() && v.now().Sub(v.fetched) < v.minRefresh {
		return nil, fmt.Errorf("unknown kid %q", kid)
	}
	jwks, err := v.source(ctx)
	if err != nil {
		return nil, fmt.Errorf("fetch signing keys: %w", err)
	}
	keys := make(map[string]ed25519.PublicKey, len(jwks.Keys))
	for _, k := range jwks.Keys {
		if pub, err := k.PublicKey(); err == nil {
			keys[k.KeyID] = pub
		}
	}
	v.keys, v.fetched = keys, v.now()
	if k, ok := keys[kid]; ok {
		return k, nil
	}
	return nil, fmt.Errorf("unknown kid %q", kid)
}

type claimsKey struct{}

// FromContext returns the claims Authenticate verified.
func FromContext(ctx context.Context) (Claims, bool) {
	c, ok := ctx.Value(claimsKey{}).(Claims)
	return c, ok
}

// Authenticate requires a valid "Authorization: Bearer <token>" header and
// puts its claims into the request context; otherwise it answers 401.
func (v *Verifier) Authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
			unauthorized(w)
			return
		}
		claims, err := v.Verify(r.Context(), token)
		if err != nil {
			httpx.Logger(r.Context()).WithError(err).Info("token refused")
			unauthorized(w)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), claimsKey{}, claims)))
	})
}

func unauthorized(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="shop"`)
	httpx.WriteProblem(w, httpx.NewProblem(http.StatusUnauthorized, ErrUnauthenticated.Error()))
}

// RequireAdmin answers 403 unless Authenticate found an admin token.
func RequireAdmin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, ok := FromContext(r.Context()); !ok || !c.IsAdmin() {
			httpx.WriteProblem(w, httpx.NewProblem(http.StatusForbidden, "this operation needs the admin role"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Invoker is the part of the Dapr client that calls another app.
type Invoker interface {
	InvokeMethod(ctx context.Context, appID, methodName, verb string) ([]byte, error)
}

// InvokeKeySource fetches the JWKS from usersvc (app id usersAppID) through
// Dapr service invocation.
func InvokeKeySource(client Invoker, usersAppID string) KeySource {
	return func(ctx context.Context) (JWKS, error) {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		body, err := client.InvokeMethod(ctx, usersAppID, ".well-known/jwks.json", http.MethodGet)
		if err != nil {
			return JWKS{}, fmt.Errorf("invoke %s: %w", usersAppID, err)
		}
		var jwks JWKS
		if err := json.Unmarshal(body, &jwks); err != nil {
			return JWKS{}, fmt.Errorf("decode JWKS: %w", err)
		}
		return jwks, nil
	}
}
