package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"shop/storefront/internal/shopapi"
)

// fakeAPI answers like the services would, from a small catalog.
type fakeAPI struct {
	registerErr error
	signedIn    string // the token SignIn hands out
	placed      []string
}

func (f *fakeAPI) Register(_ context.Context, email, _, name string) (shopapi.User, error) {
	return shopapi.User{Email: email, Name: name}, f.registerErr
}
func (f *fakeAPI) SignIn(_ context.Context, email, password string) (shopapi.Token, error) {
	if password != "right" {
		return shopapi.Token{}, &shopapi.Problem{Status: 401, Title: "Unauthorized", Detail: "wrong email or password"}
	}
	return shopapi.Token{AccessToken: f.signedIn, ExpiresIn: 900}, nil
}
func (f *fakeAPI) Products(context.Context, int, string) (shopapi.ProductPage, error) {
	return shopapi.ProductPage{Products: []shopapi.Product{{SKU: "BOOK-GO", Name: "The Go book", PriceCents: 3999, Available: 7}}}, nil
}
func (f *fakeAPI) Product(_ context.Context, sku string) (shopapi.Product, error) {
	if sku != "BOOK-GO" {
		return shopapi.Product{}, &shopapi.Problem{Status: 404}
	}
	return shopapi.Product{SKU: "BOOK-GO", Name: "The Go book", PriceCents: 3999, Available: 7}, nil
}
func (f *fakeAPI) CreateProduct(context.Context, string, shopapi.NewProduct) (shopapi.Product, error) {
	return shopapi.Product{}, nil
}
func (f *fakeAPI) Restock(context.Context, string, string, int64) (shopapi.Product, error) {
	return shopapi.Product{}, nil
}
func (f *fakeAPI) PlaceOrder(_ context.Context, _, key string, _ []shopapi.Line, _ string) (shopapi.Order, error) {
	f.placed = append(f.placed, key)
	return shopapi.Order{ID: "o1", Status: "pending"}, nil
}
func (f *fakeAPI) Orders(context.Context, string, int, string) (shopapi.OrderPage, error) {
	return shopapi.OrderPage{Orders: []shopapi.Order{
		{ID: "o1", Status: "pending", Items: []shopapi.Line{{SKU: "BOOK-GO", Quantity: 1}}, TotalCents: 3999},
		{ID: "o2", Status: "cancelled", StatusReason: "payment_declined"},
	}}, nil
}
func (f *fakeAPI) Order(_ context.Context, _, id string) (shopapi.Order, error) {
	return shopapi.Order{ID: id, Status: "cancelled", StatusReason: "payment_declined"}, nil
}
func (f *fakeAPI) CancelOrder(context.Context, string, string) (shopapi.Order, error) {
	return shopapi.Order{}, nil
}
func (f *fakeAPI) DeadLetters(context.Context, string) (map[string][]shopapi.DeadLetter, error) {
	return map[string][]shopapi.DeadLetter{"ordersvc": {{ID: "e1", Topic: "inventory", ReceivedAt: time.Now()}}}, nil
}

// A token whose payload says role admin (the pages read it unverified).
const adminToken = "e30.eyJyb2xlIjoiYWRtaW4ifQ.sig"

func newServer(t *testing.T, api *fakeAPI) http.Handler {
	t.Helper()
	h, err := New(Deps{API: api, SignInLimit: 3})
	if err != nil {
		t.Fatal(err)
	}
	r := mux.NewRouter()
	h.Register(r)
	return Secure(r)
}

const csrf = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func request(method, target string, form url.Values, cookies ...*http.Cookie) *http.Request {
	var req *http.Request
	if form != nil {
		req = httptest.NewRequest(method, target, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequest(method, target, nil)
	}
	for _, c := range cookies {
		req.AddCookie(c)
	}
	return req
}

func serve(h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

var (
	inlineScript = regexp.MustCompile(`<script(?:\s[^>]*)?>\s*[^<\s]`)
	inlineStyle  = regexp.MustCompile(`\sstyle=|<style|\son[a-z]+=`)
)

// Every page renders, with the CSP and without inline script or style.
func TestPagesRenderUnderTheCSP(t *testing.T) {
	h := newServer(t, &fakeAPI{})
	session := &http.Cookie{Name: sessionCookie, Value: adminToken}
	cart := &http.Cookie{Name: cartCookie, Value: "BOOK-GO:2"}
	for _, path := range []string{"/", "/products/BOOK-GO", "/cart", "/register", "/signin", "/checkout", "/orders", "/admin"} {
		w := serve(h, request(http.MethodGet, path, nil, session, cart))
		if w.Code != http.StatusOK {
			t.Errorf("GET %s = %d; want 200\n%s", path, w.Code, w.Body)
			continue
		}
		csp := w.Header().Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("GET %s: Content-Security-Policy %q", path, csp)
		}
		body := w.Body.String()
		if inlineScript.MatchString(body) || inlineStyle.MatchString(body) {
			t.Errorf("GET %s has inline script or style", path)
		}
		if strings.Contains(body, adminToken) {
			t.Errorf("GET %s shows the access token in the page", path)
		}
	}
	if w := serve(h, request(http.MethodGet, "/orders", nil, session)); !strings.Contains(w.Body.String(), "the card was declined") {
		t.Errorf("the orders page does not say why order o2 was cancelled")
	}
}

func TestSignInKeepsTheTokenInAStrictHttpOnlyCookie(t *testing.T) {
	api := &fakeAPI{signedIn: "tok-123"}
	h := newServer(t, api)
	form := url.Values{"email": {"a@b.c"}, "password": {"right"}, "csrf": {csrf}, "next": {"/orders"}}
	w := serve(h, request(http.MethodPost, "/signin", form, &http.Cookie{Name: csrfCookie, Value: csrf}))
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/orders" {
		t.Fatalf("POST /signin = %d to %q; want 303 to /orders", w.Code, w.Header().Get("Location"))
	}
	var found bool
	for _, c := range w.Result().Cookies() {
		if c.Name == sessionCookie {
			found = true
			if c.Value != "tok-123" || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.MaxAge != 900 {
				t.Errorf("session cookie %+v; want the token, HttpOnly, SameSite=Strict, Max-Age 900", c)
			}
		}
	}
	if !found {
		t.Fatal("no session cookie")
	}
	form.Set("password", "wrong")
	w = serve(h, request(http.MethodPost, "/signin", form, &http.Cookie{Name: csrfCookie, Value: csrf}))
	if w.Code != http.StatusUnauthorized || !strings.Contains(w.Body.String(), "wrong email or password") {
		t.Errorf("a wrong password = %d %q; want 401 with the API's message", w.Code, w.Body)
	}
}

func TestStateChangesNeedCSRF(t *testing.T) {
	h := newServer(t, &fakeAPI{})
	jar := &http.Cookie{Name: csrfCookie, Value: csrf}
	tests := []struct {
		name   string
		form   url.Values
		origin string
		cookie *http.Cookie
		want   int
	}{
		{"matching token", url.Values{"sku": {"BOOK-GO"}, "quantity": {"1"}, "csrf": {csrf}}, "", jar, http.StatusSeeOther},
		{"same origin", url.Values{"sku": {"BOOK-GO"}, "quantity": {"1"}, "csrf": {csrf}}, "http://example.com", jar, http.StatusSeeOther},
		{"no token", url.Values{"sku": {"BOOK-GO"}, "quantity": {"1"}}, "", jar, http.StatusForbidden},
		{"other token", url.Values{"sku": {"BOOK-GO"}, "quantity": {"1"}, "csrf": {strings.Repeat("f", 64)}}, "", jar, http.StatusForbidden},
		{"no cookie", url.Values{"sku": {"BOOK-GO"}, "quantity": {"1"}, "csrf": {csrf}}, "", nil, http.StatusForbidden},
		{"other origin", url.Values{"sku": {"BOOK-GO"}, "quantity": {"1"}, "csrf": {csrf}}, "http://evil.test", jar, http.StatusForbidden},
	}
	for _, tt := range tests {
		req := request(http.MethodPost, "/cart/add", tt.form)
		if tt.cookie != nil {
			req.AddCookie(tt.cookie)
		}
		if tt.origin != "" {
			req.Header.Set("Origin", tt.origin)
		}
		if w := serve(h, req); w.Code != tt.want {
			t.Errorf("%s: POST /cart/add = %d; want %d", tt.name, w.Code, tt.want)
		}
	}
}

func TestFieldErrorsStandNextToTheirFields(t *testing.T) {
	api := &fakeAPI{registerErr: &shopapi.Problem{Status: 400, Detail: "the request has invalid fields",
		Errors: []shopapi.FieldError{{Field: "password", Detail: "must be at least 8 characters"}}}}
	h := newServer(t, api)
	form := url.Values{"email": {"a@b.c"}, "name": {"Ada"}, "password": {"short"}, "csrf": {csrf}}
	w := serve(h, request(http.MethodPost, "/register", form, &http.Cookie{Name: csrfCookie, Value: csrf}))
	body := w.Body.String()
	if w.Code != http.StatusBadRequest {
		t.Fatalf("POST /register = %d; want 400", w.Code)
	}
	if !regexp.MustCompile(`id="password"[^>]*aria-invalid="true" aria-describedby="password-error"`).MatchString(body) ||
		!strings.Contains(body, `<p class="field-error" id="password-error">must be at least 8 characters</p>`) {
		t.Errorf("the password's error is not next to its field:\n%s", body)
	}
	if !strings.Contains(body, `value="a@b.c"`) {
		t.Errorf("the email entered is not shown again")
	}
}

func TestCheckoutPlacesOneOrderPerForm(t *testing.T) {
	api := &fakeAPI{}
	h := newServer(t, api)
	cookies := []*http.Cookie{{Name: csrfCookie, Value: csrf}, {Name: sessionCookie, Value: "tok"}, {Name: cartCookie, Value: "BOOK-GO:1"}}
	key := strings.Repeat("a", 32)
	form := url.Values{"card_token": {"tok_visa"}, "idempotency_key": {key}, "csrf": {csrf}}
	w := serve(h, request(http.MethodPost, "/checkout", form, cookies...))
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/orders?notice=placed#order-o1" {
		t.Fatalf("POST /checkout = %d to %q", w.Code, w.Header().Get("Location"))
	}
	if len(api.placed) != 1 || api.placed[0] != key {
		t.Errorf("placed with keys %q; want the form's key %q", api.placed, key)
	}
	if w := serve(h, request(http.MethodPost, "/checkout", form, cookies[:2]...)); w.Header().Get("Location") != "/cart" {
		t.Errorf("checkout of an empty cart goes to %q; want /cart", w.Header().Get("Location"))
	}
}

func TestSignedOutAndNotAdmin(t *testing.T) {
	h := newServer(t, &fakeAPI{})
	if w := serve(h, request(http.MethodGet, "/orders", nil)); w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/signin?next=%2Forders" {
		t.Errorf("GET /orders signed out = %d to %q; want the sign-in page", w.Code, w.Header().Get("Location"))
	}
	customer := &http.Cookie{Name: sessionCookie, Value: "e30.eyJyb2xlIjoiY3VzdG9tZXIifQ.sig"}
	if w := serve(h, request(http.MethodGet, "/admin", nil, customer)); w.Code != http.StatusForbidden {
		t.Errorf("GET /admin as a customer = %d; want 403", w.Code)
	}
	if w := serve(h, request(http.MethodGet, "/orders/o1/status", nil)); w.Code != http.StatusUnauthorized {
		t.Errorf("GET /orders/o1/status signed out = %d; want 401", w.Code)
	}
}

func TestServiceInvocationIsRefused(t *testing.T) {
	h := newServer(t, &fakeAPI{})
	req := request(http.MethodGet, "/", nil)
	req.Header.Set("dapr-caller-app-id", "gateway")
	if w := serve(h, req); w.Code != http.StatusNotFound {
		t.Errorf("GET / by service invocation = %d; want 404", w.Code)
	}
}

func TestSignInAttemptsAreLimitedPerAddress(t *testing.T) {
	h := newServer(t, &fakeAPI{}) // 3 a minute
	form := url.Values{"email": {"a@b.c"}, "password": {"wrong"}, "csrf": {csrf}}
	codes := []int{}
	for i := 0; i < 4; i++ {
		w := serve(h, request(http.MethodPost, "/signin", form, &http.Cookie{Name: csrfCookie, Value: csrf}))
		codes = append(codes, w.Code)
	}
	if codes[2] != http.StatusUnauthorized || codes[3] != http.StatusTooManyRequests {
		t.Errorf("four sign-ins answered %v; want the fourth refused with 429", codes)
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/orders": "/orders", "": "/", "https://evil.test/": "/", "//evil.test/": "/", "/\\evil.test": "/", "orders": "/",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q; want %q", in, got, want)
		}
	}
}

func TestReadCartSkipsWhatIsMalformed(t *testing.T) {
	req := request(http.MethodGet, "/", nil, &http.Cookie{Name: cartCookie, Value: "BOOK-GO:2,bad sku:1,MUG:0,MUG-DAPR:1001,MUG-DAPR:3,X"})
	got := readCart(req)
	if len(got) != 2 || got[0] != (cartLine{"BOOK-GO", 2}) || got[1] != (cartLine{"MUG-DAPR", 3}) {
		t.Errorf("readCart = %v; want BOOK-GO×2 and MUG-DAPR×3", got)
	}
}
