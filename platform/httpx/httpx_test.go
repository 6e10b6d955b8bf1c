package httpx

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sirupsen/logrus"
)

type payload struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
	Inner struct {
		Flag bool `json:"flag"`
	} `json:"inner"`
}

func TestDecodeJSON(t *testing.T) {
	tests := []struct {
		name        string
		body        string
		contentType string
		status      int
		field       string
	}{
		{"ok", `{"name":"a","count":2,"inner":{"flag":true}}`, "application/json", 0, ""},
		{"ok with charset", `{"name":"a"}`, "application/json; charset=utf-8", 0, ""},
		{"ok without content type", `{"name":"a"}`, "", 0, ""},
		{"unknown field", `{"name":"a","role":"admin"}`, "application/json", 400, "role"},
		{"wrong type", `{"count":"two"}`, "application/json", 400, "count"},
		{"nested wrong type", `{"inner":{"flag":1}}`, "application/json", 400, "inner.flag"},
		{"not an object", `[1,2]`, "application/json", 400, ""},
		{"syntax", `{"name":`, "application/json", 400, ""},
		{"empty", ``, "application/json", 400, ""},
		{"two objects", `{"name":"a"}{"name":"b"}`, "application/json", 400, ""},
		{"form", `name=a`, "application/x-www-form-urlencoded", 415, ""},
		{"too large", `{"name":"` + strings.Repeat("x", MaxBodyBytes) + `"}`, "application/json", 413, ""},
	}
	for _, tt := range tests {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tt.body))
		if tt.contentType != "" {
			req.Header.Set("Content-Type", tt.contentType)
		}
		var got payload
		p := DecodeJSON(httptest.NewRecorder(), req, &got)
		switch {
		case tt.status == 0 && p != nil:
			t.Errorf("%s: DecodeJSON() = %v; want success", tt.name, p)
		case tt.status != 0 && (p == nil || p.Status != tt.status):
			t.Errorf("%s: DecodeJSON() = %+v; want status %d", tt.name, p, tt.status)
		case tt.field != "" && (len(p.Errors) != 1 || p.Errors[0].Field != tt.field):
			t.Errorf("%s: DecodeJSON() errors = %+v; want one naming %s", tt.name, p.Errors, tt.field)
		}
	}
}

func TestLogRecoversAndLogsOneLinePerRequest(t *testing.T) {
	var out bytes.Buffer
	logger := logrus.New()
	logger.SetFormatter(&logrus.JSONFormatter{})
	logger.SetOutput(&out)
	h := Log(logrus.NewEntry(logger))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if Logger(r.Context()) == nil {
			t.Error("no request logger in the context")
		}
		if r.URL.Path == "/panic" {
			panic("boom")
		}
		w.WriteHeader(http.StatusTeapot)
	}))
	req := httptest.NewRequest(http.MethodGet, "/brew", nil)
	req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var line map[string]any
	if err := json.Unmarshal(out.Bytes(), &line); err != nil {
		t.Fatalf("log %q is not one JSON line: %v", out.String(), err)
	}
	if line["status"] != float64(http.StatusTeapot) || line["path"] != "/brew" || line["method"] != "GET" ||
		line["trace_id"] != "4bf92f3577b34da6a3ce929d0e0e4736" || line["duration_ms"] == nil {
		t.Errorf("log line = %v; want method, path, status 418, duration and trace id", line)
	}

	out.Reset()
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/panic", nil))
	if rec.Code != http.StatusInternalServerError || rec.Header().Get("Content-Type") != "application/problem+json" {
		t.Errorf("panic answered %d %q; want a 500 problem", rec.Code, rec.Header().Get("Content-Type"))
	}
	if !strings.Contains(out.String(), "handler panicked") || !strings.Contains(out.String(), `"status":500`) {
		t.Errorf("panic log = %s; want the panic and the 500 logged", out.String())
	}
}

func TestRequireAppToken(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	tests := []struct {
		token, path, header string
		want                int
	}{
		{"", "/orders", "", 204},
		{"s3cret", "/orders", "s3cret", 204},
		{"s3cret", "/orders", "wrong", 401},
		{"s3cret", "/orders", "", 401},
		{"s3cret", "/healthz", "", 204},
		{"s3cret", "/readyz", "", 204},
	}
	for _, tt := range tests {
		req := httptest.NewRequest(http.MethodGet, tt.path, nil)
		if tt.header != "" {
			req.Header.Set("dapr-api-token", tt.header)
		}
		rec := httptest.NewRecorder()
		RequireAppToken(tt.token)(ok).ServeHTTP(rec, req)
		if rec.Code != tt.want {
			t.Errorf("token %q, %s with %q: %d; want %d", tt.token, tt.path, tt.header, rec.Code, tt.want)
		}
	}
}

func TestHealthAndReadiness(t *testing.T) {
	var ready error
	r := NewRouter()
	HandleHealth(r, func(context.Context) error { return ready })
	get := func(path string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec
	}
	if rec := get("/readyz"); rec.Code != http.StatusOK {
		t.Errorf("/readyz with the sidecar up = %d; want 200", rec.Code)
	}
	ready = errors.New("sidecar unreachable")
	if rec := get("/readyz"); rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "sidecar unreachable") {
		t.Errorf("/readyz with the sidecar down = %d %s; want 503 saying why", rec.Code, rec.Body)
	}
	if rec := get("/healthz"); rec.Code != http.StatusOK {
		t.Errorf("/healthz = %d; want 200 whatever the sidecar does", rec.Code)
	}
	if rec := get("/nope"); rec.Code != http.StatusNotFound || rec.Header().Get("Content-Type") != "application/problem+json" {
		t.Errorf("unknown route = %d %q; want a 404 problem", rec.Code, rec.Header().Get("Content-Type"))
	}
}

func TestSidecarOnly(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	for _, tt := range []struct {
		header, value string
		want          int
	}{{"", "", 204}, {"Dapr-Caller-App-Id", "gateway", 404}, {"dapr-caller-app-id", "", 404}, {"Dapr-Callee-App-Id", "ordersvc", 404}} {
		req := httptest.NewRequest(http.MethodPost, "/events/orders", nil)
		if tt.header != "" {
			req.Header[http.CanonicalHeaderKey(tt.header)] = []string{tt.value}
		}
		rec := httptest.NewRecorder()
		SidecarOnly(ok).ServeHTTP(rec, req)
		if rec.Code != tt.want || (tt.want == 404 && rec.Header().Get("Content-Type") != "application/problem+json") {
			t.Errorf("%s: %q: %d %q; want %d", tt.header, tt.value, rec.Code, rec.Header().Get("Content-Type"), tt.want)
		}
	}
}
