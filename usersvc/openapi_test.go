package main

import (
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/mux"
	"gopkg.in/yaml.v3"

	"shop/platform/auth"
	"shop/platform/openapi"
	"shop/platform/service"
	"shop/usersvc/internal/password"
	"shop/usersvc/internal/token"
	"shop/usersvc/internal/user"
	"shop/usersvc/internal/user/usertest"
	"shop/usersvc/internal/userhttp"
)

// testRouter is the service's router on fakes.
func testRouter(t *testing.T) *mux.Router {
	t.Helper()
	_, priv, _ := ed25519.GenerateKey(nil)
	der, _ := x509.MarshalPKCS8PrivateKey(priv)
	signer, err := token.ParsePrivateKey(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	if err != nil {
		t.Fatal(err)
	}
	hasher := password.NewHasher(password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 1)
	svc, err := user.NewService(context.Background(), usertest.NewStore(), hasher, &usertest.Events{})
	if err != nil {
		t.Fatal(err)
	}
	h := userhttp.New(userhttp.Deps{Service: svc, Tokens: signer, TokenTTL: time.Minute, Verifier: auth.NewVerifier(signer.KeySource())})
	return service.Router(h, openAPI, func(context.Context) error { return nil })
}

type document struct {
	OpenAPI    string                          `yaml:"openapi"`
	Paths      map[string]map[string]operation `yaml:"paths"`
	Components struct {
		Schemas         map[string]any `yaml:"schemas"`
		Responses       map[string]any `yaml:"responses"`
		SecuritySchemes map[string]any `yaml:"securitySchemes"`
	} `yaml:"components"`
}

type operation struct {
	OperationID string             `yaml:"operationId"`
	Security    []map[string][]any `yaml:"security"`
	Responses   map[string]any     `yaml:"responses"`
	Parameters  []map[string]any   `yaml:"parameters"`
	RequestBody map[string]any     `yaml:"requestBody"`
	Extra       map[string]any     `yaml:",inline"`
}

func parseDocument(t *testing.T) document {
	t.Helper()
	var doc document
	if err := yaml.Unmarshal(openAPI, &doc); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi.yaml is OpenAPI %q; want 3.x", doc.OpenAPI)
	}
	return doc
}

func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	undocumented, unserved, err := openapi.Diff(openAPI, testRouter(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range undocumented {
		t.Errorf("route %s is served but not in openapi.yaml", r)
	}
	for _, d := range unserved {
		t.Errorf("openapi.yaml documents %s, which the router does not serve", d)
	}
}

// The routes behind a token say so, and answer 401 in the document.
func TestOpenAPIOperations(t *testing.T) {
	doc := parseDocument(t)
	protected := map[string]bool{"GET /users/me": true, "PATCH /users/me": true, "GET /users/{id}": true}
	ids := map[string]bool{}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			name := strings.ToUpper(method) + " " + path
			if op.OperationID == "" || ids[op.OperationID] {
				t.Errorf("%s: operationId %q missing or repeated", name, op.OperationID)
			}
			ids[op.OperationID] = true
			if len(op.Responses) == 0 {
				t.Errorf("%s documents no responses", name)
			}
			secured := len(op.Security) > 0 && op.Security[0]["bearerAuth"] != nil
			if secured != protected[name] {
				t.Errorf("%s: bearerAuth security = %v; want %v", name, secured, protected[name])
			}
			if _, ok := op.Responses["401"]; protected[name] && !ok {
				t.Errorf("%s needs a token but documents no 401", name)
			}
			if strings.Contains(path, "{") && len(op.Parameters) == 0 {
				t.Errorf("%s has a path parameter it does not describe", name)
			}
		}
	}
}

// Every $ref points at something the document defines.
func TestOpenAPIReferencesResolve(t *testing.T) {
	doc := parseDocument(t)
	bad, err := openapi.UnresolvedRefs(openAPI)
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range bad {
		t.Errorf("$ref %s does not resolve", ref)
	}
	if _, ok := doc.Components.SecuritySchemes["bearerAuth"]; !ok {
		t.Error("no bearerAuth security scheme")
	}
}

func TestServesOpenAPI(t *testing.T) {
	rec := httptest.NewRecorder()
	testRouter(t).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/openapi.yaml", nil))
	if rec.Code != http.StatusOK || rec.Body.String() != string(openAPI) || rec.Header().Get("Content-Type") != "application/yaml" {
		t.Errorf("GET /openapi.yaml = %d %q; want 200 with the embedded document", rec.Code, rec.Header().Get("Content-Type"))
	}
}
