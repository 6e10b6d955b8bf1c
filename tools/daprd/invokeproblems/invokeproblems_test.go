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

const refused = "failed to invoke, id: ordersvc, err: rpc error: code = Unavailable desc = connection error: desc = \"transport: Error while dialing: dial tcp 127.0.0.1:40123: connect: connection refused\""

// flaky answers daprd's "could not connect" for its first fails calls,
// then the app's answer; it records the body each call received.
type flaky struct {
	fails  int
	msg    string
	calls  int
	bodies []string
}

func (f *flaky) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.calls++
	b, _ := io.ReadAll(r.Body)
	f.bodies = append(f.bodies, string(b))
	if f.calls <= f.fails {
		w.Header().Set("X-Failed-Try", "1")
		daprdError(http.StatusInternalServerError, "ERR_DIRECT_INVOKE", f.msg)(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(w, `{"id":"o1"}`)
}

func post(t *testing.T, h http.Handler, body string) *http.Response {
	t.Helper()
	rec := httptest.NewRecorder()
	Handler(h).ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1.0/invoke/ordersvc/method/orders", strings.NewReader(body)))
	return rec.Result()
}

// A call daprd could not deliver is sent again, body and all; what the
// client gets is the try that was delivered, without the failed tries'
// headers.
func TestUndeliveredCallIsTriedAgain(t *testing.T) {
	f := &flaky{fails: 2, msg: refused}
	resp := post(t, f, `{"items":[1]}`)
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusAccepted || string(b) != `{"id":"o1"}` {
		t.Fatalf("got %d %q; want the third try's 202", resp.StatusCode, b)
	}
	if f.calls != 3 {
		t.Errorf("%d tries; want 3", f.calls)
	}
	for i, got := range f.bodies {
		if got != `{"items":[1]}` {
			t.Errorf("try %d received body %q", i+1, got)
		}
	}
	if resp.Header.Get("X-Failed-Try") != "" || resp.Header.Get("Content-Length") == "999" {
		t.Errorf("headers of a failed try reached the client: %v", resp.Header)
	}
}

// A call that is never delivered is tried 1+Retries times, then answered
// 503 problem details.
func TestUndeliveredCallGivesUp(t *testing.T) {
	f := &flaky{fails: 100, msg: refused}
	resp := post(t, f, `{}`)
	if f.calls != 1+Retries {
		t.Errorf("%d tries; want %d", f.calls, 1+Retries)
	}
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "1" {
		t.Errorf("got %d, Retry-After %q; want 503 with Retry-After 1", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	readProblem(t, resp)
}

// A failure that may have reached the app is never repeated: a
// connection that broke during the call, a deadline, the app's own 503.
func TestMaybeDeliveredCallIsSentOnce(t *testing.T) {
	for _, msg := range []string{
		"failed to invoke, id: ordersvc, err: rpc error: code = Unavailable desc = error reading from server: EOF",
		"failed to invoke, id: ordersvc, err: rpc error: code = Internal desc = error invoking app channel: Post \"http://127.0.0.1:8083/orders\": read tcp: connection reset by peer",
		"failed to invoke, id: ordersvc, err: context deadline exceeded",
	} {
		f := &flaky{fails: 100, msg: msg}
		resp := post(t, f, `{}`)
		if f.calls != 1 {
			t.Errorf("%q: %d tries; want 1", msg, f.calls)
		}
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("%q: status %d; want 503", msg, resp.StatusCode)
		}
	}
	calls := 0
	resp := post(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		calls++
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, `{"status":503}`)
	}), `{}`)
	if calls != 1 || resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("the app's own 503: %d tries, status %d; want 1 try, 503", calls, resp.StatusCode)
	}
}

// A body of unknown length is sent once: it cannot be read again.
func TestStreamedBodyIsSentOnce(t *testing.T) {
	f := &flaky{fails: 100, msg: refused}
	req := httptest.NewRequest(http.MethodPost, "/v1.0/invoke/ordersvc/method/orders", io.NopCloser(strings.NewReader("x")))
	req.ContentLength = -1
	rec := httptest.NewRecorder()
	Handler(f).ServeHTTP(rec, req)
	if f.calls != 1 || f.bodies[0] != "x" {
		t.Errorf("%d tries, first body %q; want one try with the body", f.calls, f.bodies)
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
