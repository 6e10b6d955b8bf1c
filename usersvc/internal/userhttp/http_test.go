package userhttp

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"shop/platform/auth"
	"shop/platform/httpx"
	"shop/platform/validation"
	"shop/usersvc/internal/password"
	"shop/usersvc/internal/token"
	"shop/usersvc/internal/user"
	"shop/usersvc/internal/user/usertest"
)

type server struct {
	t      *testing.T
	h      http.Handler
	store  *usertest.Store
	events *usertest.Events
	signer *token.Signer
	svc    *user.Service
}

func newServer(t *testing.T) *server {
	t.Helper()
	_, priv, _ := ed25519.GenerateKey(nil)
	der, _ := x509.MarshalPKCS8PrivateKey(priv)
	signer, err := token.ParsePrivateKey(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	if err != nil {
		t.Fatal(err)
	}
	s := &server{t: t, store: usertest.NewStore(), events: &usertest.Events{}, signer: signer}
	cheap := password.NewHasher(password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 2)
	s.svc, err = user.NewService(context.Background(), s.store, cheap, s.events)
	if err != nil {
		t.Fatal(err)
	}
	router := httpx.NewRouter()
	New(Deps{Service: s.svc, Tokens: signer, TokenTTL: 15 * time.Minute, Verifier: auth.NewVerifier(signer.KeySource())}).Register(router)
	s.h = router
	return s
}

type call struct {
	method, path string
	body         string
	token        string
	contentType  string
}

func (s *server) do(c call) *httptest.ResponseRecorder {
	s.t.Helper()
	req := httptest.NewRequest(c.method, c.path, strings.NewReader(c.body))
	if c.body != "" {
		ct := c.contentType
		if ct == "" {
			ct = "application/json"
		}
		req.Header.Set("Content-Type", ct)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, req)
	return rec
}

// register creates an account through the API and returns its id.
func (s *server) register(email, name string) string {
	s.t.Helper()
	rec := s.do(call{method: "POST", path: "/users", body: `{"email":"` + email + `","password":"secret-password","name":"` + name + `"}`})
	if rec.Code != http.StatusCreated {
		s.t.Fatalf("register %s = %d %s", email, rec.Code, rec.Body)
	}
	var u userJSON
	_ = json.Unmarshal(rec.Body.Bytes(), &u)
	return u.ID
}

func (s *server) tokenFor(id, role string) string {
	s.t.Helper()
	tok, err := s.signer.Issue(id, role, time.Now(), time.Minute)
	if err != nil {
		s.t.Fatal(err)
	}
	return tok
}

type problemJSON struct {
	Type, Title, Detail string
	Status              int
	Errors              []validation.FieldError
}

// check asserts status, and for errors a problem naming field (when set).
func check(t *testing.T, name string, rec *httptest.ResponseRecorder, status int, field string) problemJSON {
	t.Helper()
	var p problemJSON
	if rec.Code != status {
		t.Errorf("%s: status %d %s; want %d", name, rec.Code, rec.Body, status)
		return p
	}
	body := rec.Body.String()
	if strings.Contains(strings.ToLower(body), "password") && status < 400 || strings.Contains(body, "$argon2id") {
		t.Errorf("%s: body %s shows a password field or hash", name, body)
	}
	if status < 400 {
		return p
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("%s: Content-Type %q; want application/problem+json", name, ct)
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || p.Status != status || p.Title == "" || p.Type == "" {
		t.Errorf("%s: problem %s (%v); want type, title and status %d", name, body, err, status)
	}
	if field != "" && !hasField(p, field) {
		t.Errorf("%s: problem errors %+v; want one naming %q", name, p.Errors, field)
	}
	return p
}

func hasField(p problemJSON, field string) bool {
	for _, e := range p.Errors {
		if e.Field == field {
			return true
		}
	}
	return false
}

func TestRegister(t *testing.T) {
	s := newServer(t)
	rec := s.do(call{method: "POST", path: "/users", body: `{"email":" Ann@Example.com ","password":"secret-password","name":" Ann "}`})
	check(t, "register", rec, http.StatusCreated, "")
	var u map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &u); err != nil {
		t.Fatal(err)
	}
	if len(u) != 5 || u["email"] != "ann@example.com" || u["name"] != "Ann" || u["role"] != "customer" || u["id"] == "" {
		t.Errorf("register body = %v; want exactly id, email, name, role, created_at", u)
	}
	if _, err := time.Parse(time.RFC3339, u["created_at"].(string)); err != nil {
		t.Errorf("created_at %v is not RFC 3339: %v", u["created_at"], err)
	}
	if loc := rec.Header().Get("Location"); loc != "/users/"+u["id"].(string) {
		t.Errorf("Location = %q; want /users/%s", loc, u["id"])
	}

	big := `{"email":"x@example.com","password":"secret-password","name":"` + strings.Repeat("n", httpx.MaxBodyBytes) + `"}`
	tests := []struct {
		name   string
		c      call
		status int
		field  string
	}{
		{"same email", call{body: `{"email":"ann@example.com","password":"secret-password","name":"Ann"}`}, 409, "email"},
		{"same email, other case", call{body: `{"email":"ANN@EXAMPLE.COM","password":"secret-password","name":"Ann"}`}, 409, "email"},
		{"bad email", call{body: `{"email":"ann@","password":"secret-password","name":"Ann"}`}, 400, "email"},
		{"display name in email", call{body: `{"email":"Ann <ann2@example.com>","password":"secret-password","name":"Ann"}`}, 400, "email"},
		{"short password", call{body: `{"email":"bob@example.com","password":"1234567","name":"Bob"}`}, 400, "password"},
		{"long password", call{body: `{"email":"bob@example.com","password":"` + strings.Repeat("p", 129) + `","name":"Bob"}`}, 400, "password"},
		{"blank name", call{body: `{"email":"bob@example.com","password":"secret-password","name":"  "}`}, 400, "name"},
		{"missing name", call{body: `{"email":"bob@example.com","password":"secret-password"}`}, 400, "name"},
		{"unknown field", call{body: `{"email":"bob@example.com","password":"secret-password","name":"Bob","role":"admin"}`}, 400, "role"},
		{"wrong type", call{body: `{"email":1,"password":"secret-password","name":"Bob"}`}, 400, "email"},
		{"not json", call{body: `{"email":`}, 400, ""},
		{"empty body", call{}, 400, ""},
		{"form body", call{body: "email=a", contentType: "application/x-www-form-urlencoded"}, 415, ""},
		{"oversized body", call{body: big}, 413, ""},
	}
	for _, tt := range tests {
		tt.c.method, tt.c.path = "POST", "/users"
		check(t, tt.name, s.do(tt.c), tt.status, tt.field)
	}
	if s.store.Len() != 1 || len(s.events.Published()) != 1 {
		t.Errorf("%d users, %d events; want the one good registration only", s.store.Len(), len(s.events.Published()))
	}
}

func TestRegisterWithoutEventStillCreates(t *testing.T) {
	s := newServer(t)
	s.events.Err = errors.New("broker down")
	check(t, "register", s.do(call{method: "POST", path: "/users", body: `{"email":"ann@example.com","password":"secret-password","name":"Ann"}`}), 201, "")
}

func TestToken(t *testing.T) {
	s := newServer(t)
	id := s.register("ann@example.com", "Ann")
	rec := s.do(call{method: "POST", path: "/auth/token", body: `{"email":"ANN@example.com","password":"secret-password"}`})
	check(t, "login", rec, 200, "")
	if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q; want no-store", cc)
	}
	var tok map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &tok); err != nil {
		t.Fatal(err)
	}
	if tok["token_type"] != "Bearer" || tok["expires_in"] != float64(900) || len(tok) != 3 {
		t.Errorf("token body = %v; want access_token, token_type Bearer, expires_in 900", tok)
	}
	c, err := auth.NewVerifier(s.signer.KeySource()).Verify(context.Background(), tok["access_token"].(string))
	if err != nil || c.Subject != id || c.Role != "customer" {
		t.Errorf("Verify(access_token) = %+v, %v; want Ann as customer", c, err)
	}

	wrong := s.do(call{method: "POST", path: "/auth/token", body: `{"email":"ann@example.com","password":"wrong-password"}`})
	unknown := s.do(call{method: "POST", path: "/auth/token", body: `{"email":"nobody@example.com","password":"secret-password"}`})
	check(t, "wrong password", wrong, 401, "")
	check(t, "unknown email", unknown, 401, "")
	if wrong.Body.String() != unknown.Body.String() {
		t.Errorf("wrong password answers %s, unknown email %s; want one identical answer", wrong.Body, unknown.Body)
	}
	for _, tt := range []struct {
		name, body string
		status     int
		field      string
	}{
		{"no password", `{"email":"ann@example.com"}`, 400, "password"},
		{"no email", `{"password":"secret-password"}`, 400, "email"},
		{"unknown field", `{"email":"ann@example.com","password":"secret-password","scope":"admin"}`, 400, "scope"},
	} {
		check(t, tt.name, s.do(call{method: "POST", path: "/auth/token", body: tt.body}), tt.status, tt.field)
	}
}

func TestMe(t *testing.T) {
	s := newServer(t)
	id := s.register("ann@example.com", "Ann")
	tok := s.tokenFor(id, user.RoleCustomer)

	rec := s.do(call{method: "GET", path: "/users/me", token: tok})
	check(t, "GET /users/me", rec, 200, "")
	if !strings.Contains(rec.Body.String(), `"id":"`+id+`"`) {
		t.Errorf("GET /users/me = %s; want Ann's account", rec.Body)
	}
	tests := []struct {
		name   string
		c      call
		status int
		field  string
	}{
		{"no token", call{method: "GET"}, 401, ""},
		{"garbage token", call{method: "GET", token: "x.y.z"}, 401, ""},
		{"rename", call{method: "PATCH", token: tok, body: `{"name":" Ann B. "}`}, 200, ""},
		{"rename, merge-patch type", call{method: "PATCH", token: tok, body: `{"name":"Ann C."}`, contentType: "application/merge-patch+json"}, 200, ""},
		{"blank name", call{method: "PATCH", token: tok, body: `{"name":" "}`}, 400, "name"},
		{"no name", call{method: "PATCH", token: tok, body: `{}`}, 400, "name"},
		{"email", call{method: "PATCH", token: tok, body: `{"name":"Ann","email":"evil@example.com"}`}, 400, "email"},
		{"role", call{method: "PATCH", token: tok, body: `{"role":"admin"}`}, 400, "role"},
		{"password", call{method: "PATCH", token: tok, body: `{"password":"new-password"}`}, 400, "password"},
		{"no token patch", call{method: "PATCH", body: `{"name":"Mallory"}`}, 401, ""},
		{"token of a deleted account", call{method: "GET", token: s.tokenFor("6f1c1d8e-3a4b-4c5d-8e9f-0a1b2c3d4e5f", user.RoleCustomer)}, 404, ""},
	}
	for _, tt := range tests {
		tt.c.path = "/users/me"
		check(t, tt.name, s.do(tt.c), tt.status, tt.field)
	}
	u, _ := s.store.Get(context.Background(), id)
	if u.Name != "Ann C." || u.Email != "ann@example.com" || u.Role != user.RoleCustomer {
		t.Errorf("stored %+v; want only the name changed", u)
	}
}

func TestGetUser(t *testing.T) {
	s := newServer(t)
	ann := s.register("ann@example.com", "Ann")
	bob := s.register("bob@example.com", "Bob")
	annTok, adminTok := s.tokenFor(ann, user.RoleCustomer), s.tokenFor("6f1c1d8e-3a4b-4c5d-8e9f-0a1b2c3d4e5f", user.RoleAdmin)
	const unknown = "00000000-0000-4000-8000-000000000000"
	tests := []struct {
		name, token, id string
		status          int
	}{
		{"self", annTok, ann, 200},
		{"another customer", annTok, bob, 404},
		{"an unknown id", annTok, unknown, 404},
		{"admin reads anyone", adminTok, bob, 200},
		{"admin, unknown id", adminTok, unknown, 404},
		{"admin, malformed id", adminTok, "a||b", 404},
		{"no token", "", ann, 401},
	}
	var notFound []string
	for _, tt := range tests {
		rec := s.do(call{method: "GET", path: "/users/" + tt.id, token: tt.token})
		check(t, tt.name, rec, tt.status, "")
		if tt.status == 404 {
			notFound = append(notFound, rec.Body.String())
		}
	}
	// Another customer's account and a missing one read the same.
	for _, b := range notFound[1:] {
		if b != notFound[0] {
			t.Errorf("404 bodies differ: %q vs %q; want one answer whether the account exists or not", b, notFound[0])
		}
	}
}

func TestStoreFailureIsA500WithoutDetails(t *testing.T) {
	s := newServer(t)
	id := s.register("ann@example.com", "Ann")
	s.store.Err = errors.New("sidecar: connection refused at 10.0.0.7")
	for _, c := range []call{
		{method: "POST", path: "/users", body: `{"email":"bob@example.com","password":"secret-password","name":"Bob"}`},
		{method: "POST", path: "/auth/token", body: `{"email":"ann@example.com","password":"secret-password"}`},
		{method: "GET", path: "/users/me", token: s.tokenFor(id, user.RoleCustomer)},
	} {
		rec := s.do(c)
		p := check(t, c.method+" "+c.path, rec, 500, "")
		if strings.Contains(rec.Body.String(), "10.0.0.7") || p.Detail != "internal error" {
			t.Errorf("%s %s: 500 body %s; want no internal details", c.method, c.path, rec.Body)
		}
	}
}

func TestJWKS(t *testing.T) {
	s := newServer(t)
	rec := s.do(call{method: "GET", path: "/.well-known/jwks.json"})
	check(t, "jwks", rec, 200, "")
	var got auth.JWKS
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || len(got.Keys) != 1 || got.Keys[0] != s.signer.JWKS().Keys[0] {
		t.Errorf("jwks = %s, %v; want the signer's key", rec.Body, err)
	}
	if bytes.Contains(rec.Body.Bytes(), []byte(`"d"`)) {
		t.Error("jwks shows a private key")
	}
}
