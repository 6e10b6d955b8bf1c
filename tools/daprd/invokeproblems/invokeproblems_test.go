package invokeproblems

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func serve(t *testing.T, path string, h http.HandlerFunc) *http.Response {
	t.Helper()
	rec := httptest.NewRecorder()
	Handler(h).ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, nil))
	return rec.Result()
}

func daprdError(status int, code, msg string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		b, _ := json.Marshal(map[string]string{"errorCode": code, "message": msg})
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", "999")
		w.WriteHeader(status)
		_, _ = w.Write(b)
	}
}

func readProblem(t *testing.T, resp *http.Response) problem {
	t.Helper()
	if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type = %q; want application/problem+json", ct)
	}
	b, _ := io.ReadAll(resp.Body)
	if cl := resp.Header.Get("Content-Length"); cl != "" && cl != itoa(len(b)) {
		t.Errorf("Content-Length = %s; the body has %d bytes", cl, len(b))
	}
	var p problem
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatalf("body %q: %v", b, err)
	}
	return p
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// An app no replica of which can be reached: 503, Retry-After, a problem
// naming the app and no address.
func TestUnreachableAppIs503Problem(t *testing.T) {
	resp := serve(t, "/v1.0/invoke/usersvc/method/auth/token", daprdError(http.StatusInternalServerError, "ERR_DIRECT_INVOKE",
		"failed to invoke, id: usersvc, err: rpc error: code = Unavailable desc = dial tcp 127.0.0.1:40123: connect: connection refused"))
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("status %d; want 503", resp.StatusCode)
	}
	if got := resp.Header.Get("Retry-After"); got != "1" {
		t.Errorf("Retry-After = %q; want 1", got)
	}
	p := readProblem(t, resp)
	if p.Status != http.StatusServiceUnavailable || p.Title != "Service Unavailable" || !strings.Contains(p.Detail, "usersvc") {
		t.Errorf("problem %+v", p)
	}
	if strings.Contains(p.Detail, "127.0.0.1") {
		t.Errorf("the problem shows an internal address: %q", p.Detail)
	}
}

// Another daprd error keeps its status.
func TestOtherDaprdErrorKeepsStatus(t *testing.T) {
	resp := serve(t, "/v1.0/invoke/ordersvc/method/orders/sweep", daprdError(http.StatusForbidden, "ERR_DIRECT_INVOKE", "access control policy has denied access"))
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("status %d; want 403", resp.StatusCode)
	}
	if p := readProblem(t, resp); p.Status != http.StatusForbidden || resp.Header.Get("Retry-After") != "" {
		t.Errorf("problem %+v, Retry-After %q", p, resp.Header.Get("Retry-After"))
	}
}

// The apps' own answers, errors included, pass unchanged.
func TestAppAnswersPassUnchanged(t *testing.T) {
	cases := []struct {
		name   string
		path   string
		status int
		ct     string
		body   string
	}{
		{"app problem", "/v1.0/invoke/ordersvc/method/orders", http.StatusServiceUnavailable, "application/problem+json", `{"type":"about:blank","title":"Service Unavailable","status":503}`},
		{"app 500 problem", "/v1.0/invoke/ordersvc/method/orders", http.StatusInternalServerError, "application/problem+json", `{"type":"about:blank","status":500}`},
		{"app JSON error without errorCode", "/v1.0/invoke/inventorysvc/method/products", http.StatusNotFound, "application/json", `{"error":"x"}`},
		{"success", "/v1.0/invoke/inventorysvc/method/products", http.StatusOK, "application/json", `[{"sku":"A"}]`},
		{"not JSON", "/v1.0/invoke/inventorysvc/method/products", http.StatusInternalServerError, "application/json", `not json`},
		{"not an invocation", "/v1.0/healthz", http.StatusInternalServerError, "application/json", `{"errorCode":"ERR_HEALTH_NOT_READY"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp := serve(t, c.path, func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", c.ct)
				w.WriteHeader(c.status)
				_, _ = io.WriteString(w, c.body[:len(c.body)/2])
				_, _ = io.WriteString(w, c.body[len(c.body)/2:])
			})
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != c.status || string(b) != c.body || resp.Header.Get("Content-Type") != c.ct {
				t.Errorf("got %d %q %q; want %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), b, c.status, c.ct, c.body)
			}
		})
	}
}

// An error body too long to be daprd's passes through whole.
func TestLongErrorBodyPassesWhole(t *testing.T) {
	long := `{"errorCode":"X","message":"` + strings.Repeat("a", maxErrorBody) + `"}`
	resp := serve(t, "/v1.0/invoke/ordersvc/method/orders", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		for i := 0; i < len(long); i += 1000 {
			_, _ = io.WriteString(w, long[i:min(i+1000, len(long))])
		}
	})
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusInternalServerError || string(b) != long {
		t.Errorf("got %d and %d bytes; want 500 and the %d bytes written", resp.StatusCode, len(b), len(long))
	}
}

func TestInvokedApp(t *testing.T) {
	for path, want := range map[string]string{
		"/v1.0/invoke/usersvc/method/auth/token": "usersvc",
		"/v1.0/invoke/ordersvc/method/":          "ordersvc",
		"/v1.0/invoke//method/x":                 "",
		"/v1.0/healthz":                          "",
		"/v1.0/invoke/usersvc":                   "",
	} {
		if got, ok := invokedApp(path); got != want || ok != (want != "") {
			t.Errorf("invokedApp(%q) = %q, %v; want %q", path, got, ok, want)
		}
	}
}

// An answer with nothing written is a 200 with the handler's headers.
func TestEmptyAnswerKeepsHeaders(t *testing.T) {
	resp := serve(t, "/v1.0/invoke/ordersvc/method/x", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("X-From-App", "yes")
	})
	if resp.StatusCode != http.StatusOK || resp.Header.Get("X-From-App") != "yes" {
		t.Errorf("got %d %v; want 200 with the handler's header", resp.StatusCode, resp.Header)
	}
}
