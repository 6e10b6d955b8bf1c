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
	"github.com/prometheus/client_golang/prometheus"

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

// Timings of the Verifier's key cache.
const (
	// DefaultMinRefresh is the least time between two key fetches, whether
	// the last one succeeded or failed: a flood of tokens naming forged key
	// ids, or an unreachable usersvc, costs usersvc one call per interval.
	DefaultMinRefresh = 10 * time.Second
	// DefaultMaxAge is how long fetched keys are used before they are
	// fetched again, so a key usersvc stopped publishing stops verifying.
	DefaultMaxAge = 10 * time.Minute
	// DefaultMaxStale is how long keys that could not be fetched again are
	// still used: tokens keep verifying while usersvc is down for a while.
	DefaultMaxStale = time.Hour
	// fetchTimeout bounds one fetch.
	fetchTimeout = 5 * time.Second
)

// Verifier checks access tokens against the keys of a KeySource. It caches
// the keys for MaxAge, and fetches them again sooner when a token names an
// unknown key id, at most once per MinRefresh (successful or not). No lock
// is held while a fetch runs: tokens of cached keys verify meanwhile, and
// the callers that need the fetch wait for the one in flight.
type Verifier struct {
	source KeySource
	now    func() time.Time
	// MinRefresh, MaxAge and MaxStale: see DefaultMinRefresh and the others.
	MinRefresh, MaxAge, MaxStale time.Duration

	mu        sync.Mutex
	keys      map[string]ed25519.PublicKey
	fetched   time.Time     // when keys were fetched
	attempted time.Time     // when the last fetch started
	fetching  chan struct{} // closed when the fetch in flight ends; nil when none
	refreshes *prometheus.CounterVec
}

// Instrument registers auth_jwks_refreshes_total, the fetches of the
// signing keys by result (ok, error), on reg.
func (v *Verifier) Instrument(reg prometheus.Registerer) *Verifier {
	v.refreshes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "auth_jwks_refreshes_total",
		Help: "Fetches of usersvc's signing keys (JWKS) by result: ok, or error (the cached keys stay in use until they are too old).",
	}, []string{"result"})
	for _, r := range []string{"ok", "error"} {
		v.refreshes.WithLabelValues(r)
	}
	reg.MustRegister(v.refreshes)
	return v
}

// NewVerifier returns a verifier of tokens signed by the keys source gives.
func NewVerifier(source KeySource) *Verifier {
	return &Verifier{source: source, now: time.Now, MinRefresh: DefaultMinRefresh, MaxAge: DefaultMaxAge, MaxStale: DefaultMaxStale}
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

// maxKidLen bounds the key ids looked up; a thumbprint is 43 characters.
const maxKidLen = 128

func (v *Verifier) key(ctx context.Context, kid string) (ed25519.PublicKey, error) {
	if kid == "" || len(kid) > maxKidLen {
		return nil, errors.New("token has no usable kid")
	}
	for fetchedOnce := false; ; fetchedOnce = true {
		v.mu.Lock()
		now := v.now()
		age := now.Sub(v.fetched)
		k, known := v.keys[kid]
		if v.fetched.IsZero() || age >= v.MaxStale {
			known = false
		}
		fresh := !v.fetched.IsZero() && age < v.MaxAge
		if known && (fresh || fetchedOnce) {
			v.mu.Unlock()
			return k, nil
		}
		if wait := v.fetching; wait != nil {
			v.mu.Unlock()
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		if fetchedOnce || (!v.attempted.IsZero() && now.Sub(v.attempted) < v.MinRefresh) {
			v.mu.Unlock()
			if known {
				return k, nil // stale, but not yet too old to use
			}
			return nil, fmt.Errorf("unknown kid %q", kid)
		}
		done := make(chan struct{})
		v.attempted, v.fetching = now, done
		v.mu.Unlock()

		keys, err := v.fetch(ctx)
		if v.refreshes != nil {
			result := "ok"
			if err != nil {
				result = "error"
			}
			v.refreshes.WithLabelValues(result).Inc()
		}

		v.mu.Lock()
		if err == nil {
			v.keys, v.fetched = keys, v.now()
		}
		v.fetching = nil
		close(done)
		v.mu.Unlock()
		if err != nil && !known {
			return nil, err
		}
	}
}

// fetch reads the source once. It does not end with the request that
// started it: other requests may be waiting for it.
func (v *Verifier) fetch(ctx context.Context) (map[string]ed25519.PublicKey, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), fetchTimeout)
	defer cancel()
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
	return keys, nil
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
