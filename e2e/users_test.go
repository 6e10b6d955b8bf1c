package e2e

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	dapr "github.com/dapr/go-sdk/client"
	"github.com/golang-jwt/jwt/v5"

	"shop/e2e/harness"
)

// Helpers other test files use to get users and tokens.

// customerPassword is the password of the accounts tests create.
const customerPassword = "correct horse battery"

var emailSeq atomic.Int64

// uniqueEmail is an email no other test (or run) uses.
func uniqueEmail(prefix string) string {
	return fmt.Sprintf("%s-%d-%d@example.com", prefix, time.Now().UnixNano(), emailSeq.Add(1))
}

// bearer is the header that sends token.
func bearer(token string) http.Header {
	return http.Header{"Authorization": {"Bearer " + token}}
}

// registerUser creates an account through the API and returns its id.
func registerUser(t *testing.T, email, password, name string) (userID string) {
	t.Helper()
	resp, err := sys.Do(context.Background(), harness.Request{Method: http.MethodPost, Service: "usersvc", Path: "/users",
		Body: map[string]string{"email": email, "password": password, "name": name}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != http.StatusCreated {
		t.Fatalf("POST /users %s = %d %s; want 201", email, resp.Status, resp.Body)
	}
	var u userResponse
	if err := resp.JSON(&u); err != nil {
		t.Fatal(err)
	}
	if u.ID == "" {
		t.Fatalf("POST /users = %s; want an id", resp.Body)
	}
	return u.ID
}

// login returns an access token for email and password.
func login(t *testing.T, email, password string) (token string) {
	t.Helper()
	resp, err := sys.Do(context.Background(), harness.Request{Method: http.MethodPost, Service: "usersvc", Path: "/auth/token",
		Body: map[string]string{"email": email, "password": password}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != http.StatusOK {
		t.Fatalf("POST /auth/token %s = %d %s; want 200", email, resp.Status, resp.Body)
	}
	var tok tokenResponse
	if err := resp.JSON(&tok); err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken == "" {
		t.Fatalf("POST /auth/token = %s; want an access token", resp.Body)
	}
	return tok.AccessToken
}

// newCustomer registers a customer with a unique email and logs it in.
func newCustomer(t *testing.T) (userID, token string) {
	t.Helper()
	email := uniqueEmail("customer")
	userID = registerUser(t, email, customerPassword, "Test Customer")
	return userID, login(t, email, customerPassword)
}

var adminTokens struct {
	sync.Mutex
	token  string
	issued time.Time
}

// adminToken logs in the bootstrapped admin (credentials from the run's
// secrets) and returns its token, reused for a minute
// (well within TOKEN_TTL).
func adminToken(t *testing.T) string {
	t.Helper()
	adminTokens.Lock()
	defer adminTokens.Unlock()
	if adminTokens.token == "" || time.Since(adminTokens.issued) > time.Minute {
		s := devSecrets(t)
		adminTokens.token, adminTokens.issued = login(t, s.AdminEmail, s.AdminPassword), time.Now()
	}
	return adminTokens.token
}

type devSecretsFile struct {
	SigningKey    string
	AdminEmail    string
	AdminPassword string
}

// devSecrets are the secrets the harness generated for this run: the tests
// are a client that knows them.
func devSecrets(t *testing.T) devSecretsFile {
	t.Helper()
	return devSecretsFile{SigningKey: sys.SigningKey, AdminEmail: sys.AdminEmail, AdminPassword: sys.AdminPassword}
}

type userResponse struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Role      string    `json:"role"`
	CreatedAt time.Time `json:"created_at"`
}

type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
}

func callUsers(t *testing.T, req harness.Request) *harness.Response {
	t.Helper()
	if req.Service == "" {
		req.Service = "usersvc"
	}
	resp, err := sys.Do(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// checkUser asserts a 2xx answer holding exactly the public fields of an
// account, and returns it.
func checkUserBody(t *testing.T, what string, resp *harness.Response, status int) userResponse {
	t.Helper()
	var u userResponse
	if resp.Status != status {
		t.Fatalf("%s = %d %s; want %d", what, resp.Status, resp.Body, status)
	}
	var fields map[string]any
	if err := json.Unmarshal(resp.Body, &fields); err != nil {
		t.Fatal(err)
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if got := strings.Join(keys, ","); got != "created_at,email,id,name,role" {
		t.Errorf("%s fields = %s; want exactly created_at,email,id,name,role", what, got)
	}
	if strings.Contains(strings.ToLower(string(resp.Body)), "password") || strings.Contains(string(resp.Body), "argon2") {
		t.Errorf("%s = %s; shows a password or its hash", what, resp.Body)
	}
	if err := resp.JSON(&u); err != nil {
		t.Fatal(err)
	}
	return u
}

func TestRegisterAndReadProfile(t *testing.T) {
	email := uniqueEmail("Ann.Example")
	resp := callUsers(t, harness.Request{Method: http.MethodPost, Path: "/users",
		Body: map[string]string{"email": "  " + strings.ToUpper(email) + " ", "password": customerPassword, "name": "  Ann Example "}})
	u := checkUserBody(t, "POST /users", resp, http.StatusCreated)
	if u.Email != strings.ToLower(email) || u.Name != "Ann Example" || u.Role != "customer" || time.Since(u.CreatedAt) > time.Minute {
		t.Errorf("POST /users = %+v; want a customer with the email in lower case, the trimmed name, created now", u)
	}
	if loc := resp.Header.Get("Location"); loc != "/users/"+u.ID {
		t.Errorf("Location = %q; want /users/%s", loc, u.ID)
	}

	token := login(t, email, customerPassword)
	me := checkUserBody(t, "GET /users/me", callUsers(t, harness.Request{Method: http.MethodGet, Path: "/users/me", Header: bearer(token)}), http.StatusOK)
	byID := checkUserBody(t, "GET /users/{id}", callUsers(t, harness.Request{Method: http.MethodGet, Path: "/users/" + u.ID, Header: bearer(token)}), http.StatusOK)
	if me != u || byID != u {
		t.Errorf("GET /users/me = %+v, GET /users/%s = %+v; want the registered %+v", me, u.ID, byID, u)
	}
}

func TestRegisterDuplicateEmailInAnyCase(t *testing.T) {
	email := uniqueEmail("dup")
	registerUser(t, email, customerPassword, "First")
	for _, variant := range []string{email, strings.ToUpper(email), " " + strings.ToUpper(email[:1]) + email[1:] + " "} {
		resp := callUsers(t, harness.Request{Method: http.MethodPost, Path: "/users",
			Body: map[string]string{"email": variant, "password": "another password", "name": "Second"}})
		checkProblem(t, fmt.Sprintf("POST /users %q", variant), resp, http.StatusConflict, "email")
	}
	// The first account is intact: its password still logs in.
	login(t, email, customerPassword)
}

func TestRegisterRejectsBadInput(t *testing.T) {
	email := uniqueEmail("bad")
	body := func(email, password, name string) map[string]string {
		return map[string]string{"email": email, "password": password, "name": name}
	}
	tests := []struct {
		name   string
		body   any
		status int
		field  string
	}{
		{"invalid email", body("not-an-email", customerPassword, "Ann"), 400, "email"},
		{"email with display name", body("Ann <"+email+">", customerPassword, "Ann"), 400, "email"},
		{"email too long", body(strings.Repeat("a", 250)+"@example.com", customerPassword, "Ann"), 400, "email"},
		{"short password", body(email, "1234567", "Ann"), 400, "password"},
		{"password over 128 bytes", body(email, strings.Repeat("p", 129), "Ann"), 400, "password"},
		{"empty name", body(email, customerPassword, "   "), 400, "name"},
		{"name too long", body(email, customerPassword, strings.Repeat("n", 101)), 400, "name"},
		{"unknown field", map[string]string{"email": email, "password": customerPassword, "name": "Ann", "role": "admin"}, 400, "role"},
		{"wrong type", map[string]any{"email": email, "password": 12345678, "name": "Ann"}, 400, "password"},
		{"not JSON", "{\"email\":", 400, ""},
		{"oversized body", body(email, customerPassword, strings.Repeat("n", 1<<20)), 413, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := callUsers(t, harness.Request{Method: http.MethodPost, Path: "/users", Body: tt.body})
			checkProblem(t, "POST /users ("+tt.name+")", resp, tt.status, tt.field)
		})
	}
	// None of them created the account.
	resp := callUsers(t, harness.Request{Method: http.MethodPost, Path: "/auth/token", Body: map[string]string{"email": email, "password": customerPassword}})
	checkProblem(t, "login after rejected registrations", resp, http.StatusUnauthorized, "")
}

func TestLogin(t *testing.T) {
	email := uniqueEmail("login")
	id := registerUser(t, email, customerPassword, "Login Test")

	resp := callUsers(t, harness.Request{Method: http.MethodPost, Path: "/auth/token", Body: map[string]string{"email": strings.ToUpper(email), "password": customerPassword}})
	if resp.Status != http.StatusOK {
		t.Fatalf("POST /auth/token = %d %s; want 200", resp.Status, resp.Body)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("token response Cache-Control = %q; want no-store", cc)
	}
	var tok tokenResponse
	if err := resp.JSON(&tok); err != nil {
		t.Fatal(err)
	}
	if tok.TokenType != "Bearer" || tok.ExpiresIn != 900 {
		t.Errorf("token = %+v; want token_type Bearer and expires_in 900 (TOKEN_TTL default)", tok)
	}
	// A client verifies the token with the published keys.
	claims := verifyWithJWKS(t, tok.AccessToken)
	if claims["sub"] != id || claims["role"] != "customer" || claims["iss"] != "usersvc" {
		t.Errorf("token claims = %v; want sub %s, role customer, iss usersvc", claims, id)
	}

	wrong := callUsers(t, harness.Request{Method: http.MethodPost, Path: "/auth/token", Body: map[string]string{"email": email, "password": "wrong password"}})
	unknown := callUsers(t, harness.Request{Method: http.MethodPost, Path: "/auth/token", Body: map[string]string{"email": uniqueEmail("nobody"), "password": customerPassword}})
	checkProblem(t, "login with a wrong password", wrong, http.StatusUnauthorized, "")
	checkProblem(t, "login with an unknown email", unknown, http.StatusUnauthorized, "")
	if string(wrong.Body) != string(unknown.Body) {
		t.Errorf("wrong password answers %s, unknown email %s; want one identical answer", wrong.Body, unknown.Body)
	}
	checkProblem(t, "login without a password", callUsers(t, harness.Request{Method: http.MethodPost, Path: "/auth/token", Body: map[string]string{"email": email}}), http.StatusBadRequest, "password")
}

// verifyWithJWKS checks token's signature with the key usersvc publishes
// and returns its claims.
func verifyWithJWKS(t *testing.T, token string) jwt.MapClaims {
	t.Helper()
	resp := callUsers(t, harness.Request{Method: http.MethodGet, Path: "/.well-known/jwks.json"})
	var jwks struct {
		Keys []struct{ Kid, X string } `json:"keys"`
	}
	if err := resp.JSON(&jwks); err != nil {
		t.Fatal(err)
	}
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(token, claims, func(tok *jwt.Token) (any, error) {
		for _, k := range jwks.Keys {
			if k.Kid == tok.Header["kid"] {
				x, err := base64.RawURLEncoding.DecodeString(k.X)
				return ed25519.PublicKey(x), err
			}
		}
		return nil, fmt.Errorf("kid %v not in the JWKS", tok.Header["kid"])
	}, jwt.WithValidMethods([]string{"EdDSA"}), jwt.WithAudience("shop"), jwt.WithIssuer("usersvc"), jwt.WithExpirationRequired())
	if err != nil {
		t.Fatalf("token does not verify with the JWKS: %v", err)
	}
	return claims
}

// forge signs claims with the development signing key (which a client of a
// development system can read) and the key id usersvc publishes.
func forgeToken(t *testing.T, method jwt.SigningMethod, claims jwt.MapClaims) string {
	t.Helper()
	block, _ := pem.Decode([]byte(devSecrets(t).SigningKey))
	if block == nil {
		t.Fatal("the development signing key is not PEM")
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	priv := key.(ed25519.PrivateKey)
	resp := callUsers(t, harness.Request{Method: http.MethodGet, Path: "/.well-known/jwks.json"})
	var jwks struct {
		Keys []struct{ Kid, X string } `json:"keys"`
	}
	if err := resp.JSON(&jwks); err != nil || len(jwks.Keys) == 0 {
		t.Fatalf("JWKS %s: %v", resp.Body, err)
	}
	if jwks.Keys[0].X != base64.RawURLEncoding.EncodeToString(priv.Public().(ed25519.PublicKey)) {
		t.Fatal("usersvc does not publish the development key")
	}
	tok := jwt.NewWithClaims(method, claims)
	tok.Header["kid"] = jwks.Keys[0].Kid
	var signKey any = priv
	if method == jwt.SigningMethodNone {
		signKey = jwt.UnsafeAllowNoneSignatureType
	}
	s, err := tok.SignedString(signKey)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestUsersMeRefusesBadTokens(t *testing.T) {
	id, valid := newCustomer(t)
	now := time.Now()
	claims := func(change func(jwt.MapClaims)) jwt.MapClaims {
		c := jwt.MapClaims{"sub": id, "role": "customer", "iss": "usersvc", "aud": "shop", "iat": now.Unix(), "exp": now.Add(10 * time.Minute).Unix()}
		change(c)
		return c
	}
	// Flip the role in the payload of a real token without re-signing.
	parts := strings.Split(valid, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(payload), `"customer"`, `"admin"`, 1))) + "." + parts[2]

	tests := []struct {
		name   string
		header http.Header
		status int
	}{
		{"valid", bearer(valid), 200},
		{"forged with the right key and claims", bearer(forgeToken(t, jwt.SigningMethodEdDSA, claims(func(jwt.MapClaims) {}))), 200},
		{"missing", nil, 401},
		{"not bearer", http.Header{"Authorization": {"Basic dXNlcjpwYXNz"}}, 401},
		{"garbage", bearer("not.a.token"), 401},
		{"expired", bearer(forgeToken(t, jwt.SigningMethodEdDSA, claims(func(c jwt.MapClaims) {
			c["iat"], c["exp"] = now.Add(-time.Hour).Unix(), now.Add(-30*time.Minute).Unix()
		}))), 401},
		{"wrong audience", bearer(forgeToken(t, jwt.SigningMethodEdDSA, claims(func(c jwt.MapClaims) { c["aud"] = "another-shop" }))), 401},
		{"wrong issuer", bearer(forgeToken(t, jwt.SigningMethodEdDSA, claims(func(c jwt.MapClaims) { c["iss"] = "evil" }))), 401},
		{"alg none", bearer(forgeToken(t, jwt.SigningMethodNone, claims(func(jwt.MapClaims) {}))), 401},
		{"tampered", bearer(tampered), 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := callUsers(t, harness.Request{Method: http.MethodGet, Path: "/users/me", Header: tt.header})
			if tt.status == 200 {
				if u := checkUserBody(t, "GET /users/me", resp, 200); u.ID != id {
					t.Errorf("GET /users/me = %+v; want user %s", u, id)
				}
				return
			}
			checkProblem(t, "GET /users/me ("+tt.name+")", resp, tt.status, "")
			if !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("WWW-Authenticate = %q; want a Bearer challenge", resp.Header.Get("WWW-Authenticate"))
			}
		})
	}
}

func TestUserVisibility(t *testing.T) {
	annID, annToken := newCustomer(t)
	bobID, _ := newCustomer(t)
	const unknown = "00000000-0000-4000-8000-000000000000"

	another := callUsers(t, harness.Request{Method: http.MethodGet, Path: "/users/" + bobID, Header: bearer(annToken)})
	checkProblem(t, "customer reads another customer", another, http.StatusNotFound, "")
	missing := callUsers(t, harness.Request{Method: http.MethodGet, Path: "/users/" + unknown, Header: bearer(annToken)})
	checkProblem(t, "customer reads an unknown id", missing, http.StatusNotFound, "")
	if string(another.Body) != string(missing.Body) {
		t.Errorf("another account answers %s, a missing one %s; want the same, revealing nothing", another.Body, missing.Body)
	}

	admin := adminToken(t)
	if u := checkUserBody(t, "admin reads a customer", callUsers(t, harness.Request{Method: http.MethodGet, Path: "/users/" + bobID, Header: bearer(admin)}), http.StatusOK); u.ID != bobID {
		t.Errorf("admin GET /users/%s = %+v", bobID, u)
	}
	if u := checkUserBody(t, "admin reads another customer", callUsers(t, harness.Request{Method: http.MethodGet, Path: "/users/" + annID, Header: bearer(admin)}), http.StatusOK); u.ID != annID {
		t.Errorf("admin GET /users/%s = %+v", annID, u)
	}
	checkProblem(t, "admin reads an unknown id", callUsers(t, harness.Request{Method: http.MethodGet, Path: "/users/" + unknown, Header: bearer(admin)}), http.StatusNotFound, "")
	me := checkUserBody(t, "admin GET /users/me", callUsers(t, harness.Request{Method: http.MethodGet, Path: "/users/me", Header: bearer(admin)}), http.StatusOK)
	if me.Role != "admin" || me.Email != devSecrets(t).AdminEmail {
		t.Errorf("admin GET /users/me = %+v; want the bootstrapped admin", me)
	}
}

func TestPatchMe(t *testing.T) {
	id, token := newCustomer(t)
	resp := callUsers(t, harness.Request{Method: http.MethodPatch, Path: "/users/me", Header: bearer(token), Body: map[string]string{"name": "  Renamed Customer "}})
	if u := checkUserBody(t, "PATCH /users/me", resp, http.StatusOK); u.Name != "Renamed Customer" || u.ID != id {
		t.Errorf("PATCH /users/me = %+v; want the new trimmed name", u)
	}
	if u := checkUserBody(t, "GET /users/me", callUsers(t, harness.Request{Method: http.MethodGet, Path: "/users/me", Header: bearer(token)}), http.StatusOK); u.Name != "Renamed Customer" {
		t.Errorf("GET /users/me after PATCH = %+v; want the new name stored", u)
	}
	tests := []struct {
		name  string
		body  any
		field string
	}{
		{"blank name", map[string]string{"name": " "}, "name"},
		{"no name", map[string]string{}, "name"},
		{"email", map[string]string{"name": "X", "email": uniqueEmail("steal")}, "email"},
		{"role", map[string]string{"role": "admin"}, "role"},
		{"password", map[string]string{"password": "new password 123"}, "password"},
	}
	for _, tt := range tests {
		resp := callUsers(t, harness.Request{Method: http.MethodPatch, Path: "/users/me", Header: bearer(token), Body: tt.body})
		checkProblem(t, "PATCH /users/me ("+tt.name+")", resp, http.StatusBadRequest, tt.field)
	}
	checkProblem(t, "PATCH /users/me without a token", callUsers(t, harness.Request{Method: http.MethodPatch, Path: "/users/me", Body: map[string]string{"name": "X"}}), http.StatusUnauthorized, "")
	if u := checkUserBody(t, "GET /users/me", callUsers(t, harness.Request{Method: http.MethodGet, Path: "/users/me", Header: bearer(token)}), http.StatusOK); u.Name != "Renamed Customer" || u.Role != "customer" {
		t.Errorf("after refused PATCHes GET /users/me = %+v; want nothing changed", u)
	}
}

// Twenty clients register one email (in different letter cases) at once:
// the state store's first-write concurrency lets exactly one win.
func TestConcurrentRegistrationsOfOneEmail(t *testing.T) {
	const n = 20
	email := uniqueEmail("race")
	statuses := make([]int, n)
	bodies := make([][]byte, n)
	var wg sync.WaitGroup
	for i := range n {
		variant := []byte(email)
		for j := range variant {
			if (i>>(j%5))&1 == 1 {
				variant[j] = strings.ToUpper(string(variant[j]))[0]
			}
		}
		wg.Go(func() {
			resp, err := sys.Do(context.Background(), harness.Request{Method: http.MethodPost, Service: "usersvc", Path: "/users",
				Body: map[string]string{"email": string(variant), "password": fmt.Sprintf("password of racer %d", i), "name": fmt.Sprintf("Racer %d", i)}})
			if err != nil {
				t.Error(err)
				return
			}
			statuses[i], bodies[i] = resp.Status, resp.Body
		})
	}
	wg.Wait()
	winner, conflicts := -1, 0
	for i, s := range statuses {
		switch s {
		case http.StatusCreated:
			if winner >= 0 {
				t.Errorf("racers %d and %d both got 201", winner, i)
			}
			winner = i
		case http.StatusConflict:
			conflicts++
		default:
			t.Errorf("racer %d got %d %s; want 201 or 409", i, s, bodies[i])
		}
	}
	if winner < 0 || conflicts != n-1 {
		t.Fatalf("%d conflicts and winner %d; want exactly one 201 and %d 409s", conflicts, winner, n-1)
	}
	token := login(t, email, fmt.Sprintf("password of racer %d", winner))
	u := checkUserBody(t, "GET /users/me", callUsers(t, harness.Request{Method: http.MethodGet, Path: "/users/me", Header: bearer(token)}), http.StatusOK)
	if u.Name != fmt.Sprintf("Racer %d", winner) {
		t.Errorf("the account is %+v; want racer %d's", u, winner)
	}
	checkOneAccountStored(t, email, u.ID)
}

// checkOneAccountStored reads usersvc's store through its sidecar: the
// email's claim names the account, and the account is stored. On Redis,
// where the keys can be listed, it also checks that no other record of
// the email exists: no orphan account of a losing registration.
func checkOneAccountStored(t *testing.T, email, id string) {
	t.Helper()
	ctx := context.Background()
	client, err := dapr.NewClientWithAddressContext(ctx, sys.SidecarGRPC("usersvc"))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	client.WithAuthToken(sys.SidecarToken("usersvc"))
	const store = "users-state"
	var claim struct {
		UserID string `json:"user_id"`
	}
	it, err := client.GetState(ctx, store, "email:"+url.PathEscape(email), nil)
	if err != nil {
		t.Fatalf("read the claim of %s: %v", email, err)
	}
	if json.Unmarshal(it.Value, &claim) != nil || claim.UserID != id {
		t.Fatalf("claim of %s = %s, %v; want it to name %s", email, it.Value, err, id)
	}
	type account struct {
		ID    string `json:"id"`
		Email string `json:"email"`
		Void  bool   `json:"void"`
	}
	var acc account
	it, err = client.GetState(ctx, store, "user:"+id, nil)
	if err != nil {
		t.Fatalf("read user:%s: %v", id, err)
	}
	if json.Unmarshal(it.Value, &acc) != nil || acc.Email != email || acc.Void {
		t.Fatalf("user:%s = %s, %v; want the account of %s", id, it.Value, err, email)
	}
	if sys.Profile() != "redis" {
		return
	}
	prefix := sys.AppIDs["usersvc"] + "||"
	keys, err := redisScan(prefix + "user:*")
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(keys))
	for _, k := range keys {
		names = append(names, strings.TrimPrefix(k, prefix))
	}
	items, err := client.GetBulkState(ctx, store, names, nil, 8)
	if err != nil {
		t.Fatal(err)
	}
	of := 0
	for _, it := range items {
		var a account
		if err := json.Unmarshal(it.Value, &a); err != nil {
			t.Fatalf("%s = %s: %v", it.Key, it.Value, err)
		}
		if strings.EqualFold(a.Email, email) {
			of++
			if a.ID != id {
				t.Errorf("%s = %s: a record of %s that its claim does not name", it.Key, it.Value, email)
			}
		}
	}
	if of != 1 {
		t.Errorf("%d records of %s among %d accounts; want exactly 1", of, email, len(items))
	}
}

// redisScan lists the keys of the profile's Redis that match pattern
// (SCAN over RESP): the state API cannot list keys.
func redisScan(pattern string) ([]string, error) {
	conn, err := net.DialTimeout("tcp", "127.0.0.1:6379", 5*time.Second)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	r := bufio.NewReader(conn)
	line := func() (string, error) {
		s, err := r.ReadString('\n')
		return strings.TrimSuffix(s, "\r\n"), err
	}
	bulk := func() (string, error) {
		h, err := line()
		if err != nil || !strings.HasPrefix(h, "$") {
			return "", fmt.Errorf("redis: bulk string expected, got %q: %v", h, err)
		}
		n, err := strconv.Atoi(h[1:])
		if err != nil {
			return "", err
		}
		b := make([]byte, n+2)
		if _, err := io.ReadFull(r, b); err != nil {
			return "", err
		}
		return string(b[:n]), nil
	}
	var keys []string
	for cursor := "0"; ; {
		args := []string{"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"}
		req := fmt.Sprintf("*%d\r\n", len(args))
		for _, a := range args {
			req += fmt.Sprintf("$%d\r\n%s\r\n", len(a), a)
		}
		if _, err := conn.Write([]byte(req)); err != nil {
			return nil, err
		}
		if h, err := line(); err != nil || h != "*2" {
			return nil, fmt.Errorf("redis: SCAN answered %q: %v", h, err)
		}
		if cursor, err = bulk(); err != nil {
			return nil, err
		}
		h, err := line()
		if err != nil || !strings.HasPrefix(h, "*") {
			return nil, fmt.Errorf("redis: SCAN keys %q: %v", h, err)
		}
		n, err := strconv.Atoi(h[1:])
		if err != nil {
			return nil, err
		}
		for range n {
			k, err := bulk()
			if err != nil {
				return nil, err
			}
			keys = append(keys, k)
		}
		if cursor == "0" {
			return keys, nil
		}
	}
}

func TestOpenAPIIsServed(t *testing.T) {
	resp := callUsers(t, harness.Request{Method: http.MethodGet, Path: "/openapi.yaml"})
	if resp.Status != http.StatusOK || !strings.Contains(string(resp.Body), "openapi: 3.") || !strings.Contains(string(resp.Body), "/auth/token") {
		t.Errorf("GET /openapi.yaml = %d %.80s; want the OpenAPI document", resp.Status, resp.Body)
	}
}

// A restart of usersvc bootstraps the admin again from the secret store:
// the existing admin (and every account) is left as it was. The state lives
// in the sidecar, which keeps running.
func TestAdminBootstrapIsIdempotentAcrossRestarts(t *testing.T) {
	customerID, _ := newCustomer(t)
	before := checkUserBody(t, "admin GET /users/me", callUsers(t, harness.Request{Method: http.MethodGet, Path: "/users/me", Header: bearer(adminToken(t))}), http.StatusOK)

	if err := sys.Kill("usersvc"); err != nil {
		t.Fatal(err)
	}
	if err := sys.Restart(context.Background(), "usersvc"); err != nil {
		t.Fatal(err)
	}
	s := devSecrets(t)
	after := checkUserBody(t, "admin GET /users/me after a restart", callUsers(t, harness.Request{Method: http.MethodGet, Path: "/users/me", Header: bearer(login(t, s.AdminEmail, s.AdminPassword))}), http.StatusOK)
	if after != before {
		t.Errorf("admin after a restart = %+v; want the same account %+v", after, before)
	}
	// The admin email stays taken, by that one account.
	resp := callUsers(t, harness.Request{Method: http.MethodPost, Path: "/users", Body: map[string]string{"email": strings.ToUpper(s.AdminEmail), "password": customerPassword, "name": "Mallory"}})
	checkProblem(t, "register the admin email", resp, http.StatusConflict, "email")
	checkUserBody(t, "admin reads a customer after a restart", callUsers(t, harness.Request{Method: http.MethodGet, Path: "/users/" + customerID, Header: bearer(adminToken(t))}), http.StatusOK)
}

// The gateway's rate limit (components/gateway/ratelimit.yaml, per client
// address) is what slows down password guessing. Hammer the login: some
// attempts get 429, none a 5xx. Last in the file: the limit is per second,
// and the test waits until the gateway lets requests through again.
func TestLoginIsRateLimitedAtTheGateway(t *testing.T) {
	const attempts = 400
	email := uniqueEmail("hammered")
	var wg sync.WaitGroup
	var mu sync.Mutex
	counts := map[int]int{}
	start := make(chan struct{})
	for range attempts {
		wg.Go(func() {
			<-start
			resp, err := sys.Do(context.Background(), harness.Request{Method: http.MethodPost, Service: "usersvc", Path: "/auth/token", NoRetry: true,
				Body: map[string]string{"email": email, "password": "guess guess guess"}})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				counts[-1]++
				return
			}
			counts[resp.Status]++
		})
	}
	close(start)
	wg.Wait()
	t.Logf("%d concurrent login attempts through the gateway: %v (status: count; -1 = transport error)", attempts, counts)
	if counts[http.StatusTooManyRequests] == 0 {
		t.Errorf("no 429 among %d concurrent attempts; want the gateway's rate limit to answer", attempts)
	}
	if counts[http.StatusUnauthorized] == 0 {
		t.Errorf("no attempt reached usersvc (no 401); want the limit to let some through")
	}
	for status, n := range counts {
		if status >= 500 || status < 0 {
			t.Errorf("%d attempts got %d; want no server or transport errors", n, status)
		}
	}
	// Leave the gateway as the next test expects it.
	err := harness.Eventually(context.Background(), 10*time.Second, func() error {
		resp, err := sys.Do(context.Background(), harness.Request{Method: http.MethodGet, Service: "usersvc", Path: "/healthz", NoRetry: true})
		if err != nil {
			return err
		}
		if resp.Status != http.StatusOK {
			return fmt.Errorf("GET /healthz = %d", resp.Status)
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}

// BenchmarkLogin measures a login through the gateway (gateway sidecar ->
// usersvc sidecar -> usersvc: state reads and one argon2id verification),
// one at a time, and reports the median and the 99th percentile.
//
//	go test -run '^$' -bench Login -benchtime 100x ./e2e/
func BenchmarkLogin(b *testing.B) {
	email := uniqueEmail("bench")
	resp, err := sys.Do(context.Background(), harness.Request{Method: http.MethodPost, Service: "usersvc", Path: "/users",
		Body: map[string]string{"email": email, "password": customerPassword, "name": "Bench"}})
	if err != nil || resp.Status != http.StatusCreated {
		b.Fatalf("register: %v %v", err, resp)
	}
	durations := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		resp, err := sys.Do(context.Background(), harness.Request{Method: http.MethodPost, Service: "usersvc", Path: "/auth/token",
			Body: map[string]string{"email": email, "password": customerPassword}})
		durations = append(durations, time.Since(start))
		if err != nil || resp.Status != http.StatusOK {
			b.Fatalf("login: %v %v", err, resp)
		}
	}
	b.StopTimer()
	slices.Sort(durations)
	pct := func(p float64) time.Duration { return durations[min(len(durations)-1, int(p*float64(len(durations))))] }
	b.ReportMetric(float64(pct(0.50).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(pct(0.99).Microseconds())/1000, "p99-ms")
	b.Logf("%d logins: p50 %v, p99 %v, max %v", len(durations), pct(0.50), pct(0.99), durations[len(durations)-1])
}
