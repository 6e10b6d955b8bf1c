// Package web is the storefront's pages: server-rendered HTML (html/template)
// with one small script for the live order status, all embedded in the
// binary. The browser talks only to the storefront's origin; the storefront
// calls the services through its own Dapr sidecar (shopapi) with the access
// token it keeps in an HttpOnly, SameSite=Strict cookie.
package web

import (
	"context"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"shop/platform/contract"
	"shop/platform/httpx"
	"shop/storefront/internal/shopapi"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// API is what the pages need from the services.
type API interface {
	Register(ctx context.Context, email, password, name string) (shopapi.User, error)
	SignIn(ctx context.Context, email, password string) (shopapi.Token, error)
	Products(ctx context.Context, pageSize int, pageToken string) (shopapi.ProductPage, error)
	Product(ctx context.Context, sku string) (shopapi.Product, error)
	CreateProduct(ctx context.Context, token string, p shopapi.NewProduct) (shopapi.Product, error)
	Restock(ctx context.Context, token, sku string, quantity int64) (shopapi.Product, error)
	PlaceOrder(ctx context.Context, token, idempotencyKey string, lines []shopapi.Line, cardToken string) (shopapi.Order, error)
	Orders(ctx context.Context, token string, pageSize int, pageToken string) (shopapi.OrderPage, error)
	Order(ctx context.Context, token, id string) (shopapi.Order, error)
	CancelOrder(ctx context.Context, token, id string) (shopapi.Order, error)
	DeadLetters(ctx context.Context, token string) (map[string][]shopapi.DeadLetter, error)
}

// Deps are what the handler is built from.
type Deps struct {
	API API
	// SecureCookies marks the cookies Secure (HTTPS only); set it wherever
	// the storefront is served over TLS.
	SecureCookies bool
	// SignInLimit is how many sign-in and registration attempts one client
	// address may make per minute (0: no limit).
	SignInLimit int
}

// Handler serves the pages.
type Handler struct {
	deps    Deps
	pages   map[string]*template.Template
	limiter *limiter
}

// New parses the templates and returns the handler.
func New(deps Deps) (*Handler, error) {
	h := &Handler{deps: deps, pages: map[string]*template.Template{}, limiter: newLimiter(deps.SignInLimit, time.Minute)}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" {
			continue
		}
		// A field without a message reads as "" (no error), not as a missing value.
		t, err := template.New("layout.html").Option("missingkey=zero").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", n)
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", n, err)
		}
		h.pages[base] = t
	}
	return h, nil
}

var funcs = template.FuncMap{
	"money":       func(cents int64) string { return fmt.Sprintf("$%d.%02d", cents/100, cents%100) },
	"reason":      reasonText,
	"cancellable": func(status string) bool { return status == "pending" || status == "confirmed" },
	"when":        func(t time.Time) string { return t.Local().Format("2006-01-02 15:04:05") },
	"field": func(name, label, typ, value, err, autocomplete string) formField {
		f := formField{ID: name, Name: name, Label: label, Type: typ, Value: value, Error: err, Autocomplete: autocomplete}
		if typ == "number" {
			f.Min = "0"
		}
		return f
	},
}

// formField is one labelled input of a form (template "field").
type formField struct {
	ID, Name, Label, Type, Value, Error, Autocomplete, Min string
}

// reasonText says why an order ended as it did, for a person.
func reasonText(reason string) string {
	switch reason {
	case contract.ReasonPaymentDeclined:
		return "the card was declined"
	case contract.ReasonCancelledByCustomer:
		return "you cancelled it"
	case contract.ReasonSagaTimeout:
		return "it was not completed in time"
	case contract.ReasonOutOfStock:
		return "not enough stock"
	case contract.ReasonUnknownProduct:
		return "a product is not in the catalog"
	case "":
		return ""
	}
	return strings.ReplaceAll(reason, "_", " ")
}

// Register adds the pages and the assets to r.
func (h *Handler) Register(r *mux.Router) {
	assets, _ := fs.Sub(assetFS, "assets")
	r.PathPrefix("/assets/").Handler(http.StripPrefix("/assets/", cacheAssets(http.FileServerFS(assets)))).Methods(http.MethodGet)
	get := func(path string, f http.HandlerFunc) { r.HandleFunc(path, f).Methods(http.MethodGet, http.MethodHead) }
	post := func(path string, f http.HandlerFunc) { r.Handle(path, h.csrf(f)).Methods(http.MethodPost) }
	get("/", h.catalog)
	get("/products/{sku}", h.product)
	get("/cart", h.cart)
	post("/cart/add", h.cartAdd)
	post("/cart/remove", h.cartRemove)
	get("/register", h.registerForm)
	post("/register", h.limited(h.register))
	get("/signin", h.signInForm)
	post("/signin", h.limited(h.signIn))
	post("/signout", h.signOut)
	get("/checkout", h.signedIn(h.checkoutForm))
	post("/checkout", h.signedIn(h.checkout))
	get("/orders", h.signedIn(h.orders))
	get("/orders/{id}/status", h.orderStatus)
	post("/orders/{id}/cancel", h.signedIn(h.cancel))
	get("/admin", h.admin(h.adminPage))
	post("/admin/products", h.admin(h.createProduct))
	post("/admin/products/{sku}/restock", h.admin(h.restock))
}

func cacheAssets(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=300")
		next.ServeHTTP(w, r)
	})
}

// Secure sets the headers every answer carries (a Content-Security-Policy
// that allows no inline script or style and nothing from another origin)
// and refuses requests that came by Dapr service invocation: the
// storefront is for browsers, and nothing calls it through a sidecar.
func Secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, name := range []string{"dapr-caller-app-id", "dapr-callee-app-id"} {
			if len(r.Header.Values(name)) > 0 {
				httpx.WriteProblem(w, httpx.NewProblem(http.StatusNotFound, "no such resource: "+r.URL.Path))
				return
			}
		}
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// csrf refuses a state-changing request that does not come from the
// storefront's own pages (checkCSRF).
func (h *Handler) csrf(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		if !checkCSRF(r) {
			h.render(w, r, http.StatusForbidden, "error", page{Title: "Refused", Error: "This form was not sent from the storefront's own page (or it is too old). Reload the page and try again."})
			return
		}
		next(w, r)
	})
}

// limited applies the per-address limit on sign-in and registration.
func (h *Handler) limited(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !h.limiter.allow(clientAddress(r), time.Now()) {
			w.Header().Set("Retry-After", "60")
			h.render(w, r, http.StatusTooManyRequests, "error", page{Title: "Too many attempts", Error: "Too many attempts from your address. Wait a minute and try again."})
			return
		}
		next(w, r)
	}
}

// signedIn sends a person who is not signed in to the sign-in page.
func (h *Handler) signedIn(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if h.session(r) == nil {
			h.toSignIn(w, r)
			return
		}
		next(w, r)
	}
}

func (h *Handler) admin(next http.HandlerFunc) http.HandlerFunc {
	return h.signedIn(func(w http.ResponseWriter, r *http.Request) {
		if !h.session(r).Admin() {
			h.render(w, r, http.StatusForbidden, "error", page{Title: "Admins only", Error: "This page is for the shop's admins."})
			return
		}
		next(w, r)
	})
}

func (h *Handler) toSignIn(w http.ResponseWriter, r *http.Request) {
	next := r.URL.Path
	if r.Method != http.MethodGet {
		next = "/"
	}
	http.Redirect(w, r, "/signin?next="+url.QueryEscape(next), http.StatusSeeOther)
}

// page is what every template gets.
type page struct {
	Title    string
	Session  *session
	CSRF     string
	CartSize int
	Notice   string
	Error    string            // a message for the whole form
	Fields   map[string]string // a message per field, by the API's field name
	Form     map[string]string // the values to show again
	Data     any
}

// notices are the fixed messages a redirect may ask a page to show
// (?notice=...): nothing a link carries is echoed into the page.
var notices = map[string]string{
	"added":      "Added to your cart.",
	"removed":    "Removed from your cart.",
	"registered": "Your account is ready. Sign in.",
	"placed":     "Order placed. Its status follows below as the shop processes it.",
	"cancelled":  "Order cancelled.",
	"created":    "Product created.",
	"restocked":  "Product restocked.",
	"signedout":  "You are signed out.",
}

func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	p.Session = h.session(r)
	p.CSRF = h.csrfToken(w, r)
	for _, l := range readCart(r) {
		p.CartSize += int(l.Quantity)
	}
	if p.Notice == "" {
		p.Notice = notices[r.URL.Query().Get("notice")]
	}
	if p.Fields == nil {
		p.Fields = map[string]string{}
	}
	if p.Form == nil {
		p.Form = map[string]string{}
	}
	t, ok := h.pages[name]
	if !ok {
		http.Error(w, "no page "+name, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := t.Execute(w, p); err != nil {
		httpx.Logger(r.Context()).WithError(err).Error("render " + name)
	}
}

// fail renders what a call to the services answered: an expired session
// goes back to sign-in, a problem is shown on the form's page with its
// field errors, anything else is a page saying the shop is unavailable.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, name string, p page, err error) {
	prob := shopapi.AsProblem(err)
	switch {
	case prob != nil && prob.Status == http.StatusUnauthorized && h.session(r) != nil && name != "signin":
		h.clearCookie(w, sessionCookie)
		h.toSignIn(w, r)
		return
	case prob != nil && prob.Status < 500:
		p.Error = prob.Error()
		if p.Fields == nil {
			p.Fields = map[string]string{}
		}
		for _, e := range prob.Errors {
			p.Fields[e.Field] = e.Detail
		}
		if len(prob.Errors) > 0 {
			p.Error = "Please correct the fields marked below."
		}
		h.render(w, r, prob.Status, name, p)
	default:
		httpx.Logger(r.Context()).WithError(err).Warn("service call failed")
		status := http.StatusBadGateway
		if prob != nil && prob.Status == http.StatusServiceUnavailable {
			status = http.StatusServiceUnavailable
		}
		h.render(w, r, status, "error", page{Title: "Unavailable", Error: "The shop cannot answer right now. Try again in a moment."})
	}
}

func (h *Handler) catalog(w http.ResponseWriter, r *http.Request) {
	pageToken := r.URL.Query().Get("page")
	products, err := h.deps.API.Products(r.Context(), 24, pageToken)
	if err != nil {
		h.fail(w, r, "error", page{Title: "Catalog"}, err)
		return
	}
	h.render(w, r, http.StatusOK, "catalog", page{Title: "Catalog", Data: products})
}

func (h *Handler) product(w http.ResponseWriter, r *http.Request) {
	p, err := h.deps.API.Product(r.Context(), mux.Vars(r)["sku"])
	if shopapi.IsStatus(err, http.StatusNotFound) || shopapi.IsStatus(err, http.StatusBadRequest) {
		h.render(w, r, http.StatusNotFound, "error", page{Title: "Not found", Error: "There is no such product."})
		return
	}
	if err != nil {
		h.fail(w, r, "error", page{Title: "Product"}, err)
		return
	}
	h.render(w, r, http.StatusOK, "product", page{Title: p.Name, Data: p})
}

// cartView is the cart with the catalog's current prices.
type cartView struct {
	Lines      []cartViewLine
	TotalCents int64
}

type cartViewLine struct {
	shopapi.Product
	Quantity   int64
	TotalCents int64
}

func (h *Handler) cartView(ctx context.Context, r *http.Request) (cartView, error) {
	var v cartView
	for _, l := range readCart(r) {
		p, err := h.deps.API.Product(ctx, l.SKU)
		if shopapi.IsStatus(err, http.StatusNotFound) {
			continue // gone from the catalog
		}
		if err != nil {
			return v, err
		}
		line := cartViewLine{Product: p, Quantity: l.Quantity, TotalCents: p.PriceCents * l.Quantity}
		v.Lines = append(v.Lines, line)
		v.TotalCents += line.TotalCents
	}
	return v, nil
}

func (h *Handler) cart(w http.ResponseWriter, r *http.Request) {
	v, err := h.cartView(r.Context(), r)
	if err != nil {
		h.fail(w, r, "error", page{Title: "Cart"}, err)
		return
	}
	h.render(w, r, http.StatusOK, "cart", page{Title: "Your cart", Data: v})
}

func (h *Handler) cartAdd(w http.ResponseWriter, r *http.Request) {
	sku := r.PostFormValue("sku")
	q, err := strconv.ParseInt(r.PostFormValue("quantity"), 10, 64)
	if !validSKU(sku) || err != nil || q < 1 || q > 1000 {
		h.render(w, r, http.StatusBadRequest, "error", page{Title: "Cart", Error: "Choose a quantity from 1 to 1000."})
		return
	}
	lines := readCart(r)
	found := false
	for i := range lines {
		if lines[i].SKU == sku {
			lines[i].Quantity = min(lines[i].Quantity+q, 1000)
			found = true
		}
	}
	if !found {
		if len(lines) == maxCartLines {
			h.render(w, r, http.StatusBadRequest, "error", page{Title: "Cart", Error: "Your cart is full."})
			return
		}
		lines = append(lines, cartLine{SKU: sku, Quantity: q})
	}
	h.writeCart(w, lines)
	http.Redirect(w, r, "/cart?notice=added", http.StatusSeeOther)
}

func (h *Handler) cartRemove(w http.ResponseWriter, r *http.Request) {
	sku := r.PostFormValue("sku")
	var kept []cartLine
	for _, l := range readCart(r) {
		if l.SKU != sku {
			kept = append(kept, l)
		}
	}
	h.writeCart(w, kept)
	http.Redirect(w, r, "/cart?notice=removed", http.StatusSeeOther)
}

func (h *Handler) registerForm(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, http.StatusOK, "register", page{Title: "Create an account"})
}

func (h *Handler) register(w http.ResponseWriter, r *http.Request) {
	form := map[string]string{"email": r.PostFormValue("email"), "name": r.PostFormValue("name")}
	_, err := h.deps.API.Register(r.Context(), form["email"], r.PostFormValue("password"), form["name"])
	if err != nil {
		h.fail(w, r, "register", page{Title: "Create an account", Form: form}, err)
		return
	}
	http.Redirect(w, r, "/signin?notice=registered&email="+url.QueryEscape(form["email"]), http.StatusSeeOther)
}

func (h *Handler) signInForm(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, http.StatusOK, "signin", page{Title: "Sign in", Form: map[string]string{
		"email": r.URL.Query().Get("email"), "next": safeNext(r.URL.Query().Get("next")),
	}})
}

// safeNext keeps a redirect target on the storefront's own origin.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	return next
}

func (h *Handler) signIn(w http.ResponseWriter, r *http.Request) {
	form := map[string]string{"email": r.PostFormValue("email"), "next": safeNext(r.PostFormValue("next"))}
	tok, err := h.deps.API.SignIn(r.Context(), form["email"], r.PostFormValue("password"))
	if err != nil {
		h.fail(w, r, "signin", page{Title: "Sign in", Form: form}, err)
		return
	}
	h.setCookie(w, sessionCookie, tok.AccessToken, time.Duration(tok.ExpiresIn)*time.Second)
	http.Redirect(w, r, form["next"], http.StatusSeeOther)
}

func (h *Handler) signOut(w http.ResponseWriter, r *http.Request) {
	h.clearCookie(w, sessionCookie)
	http.Redirect(w, r, "/?notice=signedout", http.StatusSeeOther)
}

// cards are the simulated payment provider's card tokens.
var cards = []struct{ Token, Label string }{
	{"tok_visa", "Visa test card (approved)"},
	{"tok_decline", "Test card that is declined"},
}

type checkoutView struct {
	Cart           cartView
	Cards          any
	IdempotencyKey string
}

func (h *Handler) checkoutForm(w http.ResponseWriter, r *http.Request) {
	h.renderCheckout(w, r, http.StatusOK, page{}, randomHex(16))
}

func (h *Handler) renderCheckout(w http.ResponseWriter, r *http.Request, status int, p page, key string) {
	v, err := h.cartView(r.Context(), r)
	if err != nil {
		h.fail(w, r, "error", page{Title: "Checkout"}, err)
		return
	}
	if len(v.Lines) == 0 {
		http.Redirect(w, r, "/cart", http.StatusSeeOther)
		return
	}
	p.Title = "Checkout"
	p.Data = checkoutView{Cart: v, Cards: cards, IdempotencyKey: key}
	h.render(w, r, status, "checkout", p)
}

func (h *Handler) checkout(w http.ResponseWriter, r *http.Request) {
	card := r.PostFormValue("card_token")
	// The form's key: submitting the same page twice places one order.
	key := r.PostFormValue("idempotency_key")
	if len(key) != 32 {
		key = randomHex(16)
	}
	var lines []shopapi.Line
	for _, l := range readCart(r) {
		lines = append(lines, shopapi.Line{SKU: l.SKU, Quantity: l.Quantity})
	}
	if len(lines) == 0 {
		http.Redirect(w, r, "/cart", http.StatusSeeOther)
		return
	}
	o, err := h.deps.API.PlaceOrder(r.Context(), h.session(r).Token, key, lines, card)
	if err != nil {
		prob := shopapi.AsProblem(err)
		if prob != nil && prob.Status < 500 && prob.Status != http.StatusUnauthorized {
			p := page{Error: prob.Error(), Fields: map[string]string{}, Form: map[string]string{"card_token": card}}
			for _, e := range prob.Errors {
				p.Fields[e.Field] = e.Detail
			}
			if d := p.Fields["payment.card_token"]; d != "" {
				p.Fields["card_token"] = d
			}
			h.renderCheckout(w, r, prob.Status, p, key)
			return
		}
		h.fail(w, r, "error", page{Title: "Checkout"}, err)
		return
	}
	h.writeCart(w, nil)
	http.Redirect(w, r, "/orders?notice=placed#order-"+url.QueryEscape(o.ID), http.StatusSeeOther)
}

func (h *Handler) orders(w http.ResponseWriter, r *http.Request) {
	orders, err := h.deps.API.Orders(r.Context(), h.session(r).Token, 20, r.URL.Query().Get("page"))
	if err != nil {
		h.fail(w, r, "error", page{Title: "My orders"}, err)
		return
	}
	h.render(w, r, http.StatusOK, "orders", page{Title: "My orders", Data: orders})
}

// orderStatus answers the live-status script: {status, reason} of one of
// the caller's orders.
func (h *Handler) orderStatus(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	s := h.session(r)
	if s == nil {
		httpx.WriteProblem(w, httpx.NewProblem(http.StatusUnauthorized, "sign in first"))
		return
	}
	o, err := h.deps.API.Order(r.Context(), s.Token, mux.Vars(r)["id"])
	if err != nil {
		status := http.StatusBadGateway
		if p := shopapi.AsProblem(err); p != nil && p.Status < 500 {
			status = p.Status
		}
		httpx.WriteProblem(w, httpx.NewProblem(status, err.Error()))
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{
		"status": o.Status, "reason": reasonText(o.StatusReason), "cancellable": o.Status == "pending" || o.Status == "confirmed",
	})
}

func (h *Handler) cancel(w http.ResponseWriter, r *http.Request) {
	if _, err := h.deps.API.CancelOrder(r.Context(), h.session(r).Token, mux.Vars(r)["id"]); err != nil {
		if p := shopapi.AsProblem(err); p != nil && p.Status == http.StatusConflict {
			h.render(w, r, http.StatusConflict, "error", page{Title: "Cannot cancel", Error: "This order can no longer be cancelled: " + p.Error()})
			return
		}
		h.fail(w, r, "error", page{Title: "My orders"}, err)
		return
	}
	http.Redirect(w, r, "/orders?notice=cancelled#order-"+url.QueryEscape(mux.Vars(r)["id"]), http.StatusSeeOther)
}

type adminView struct {
	Products    shopapi.ProductPage
	DeadLetters map[string][]shopapi.DeadLetter
}

func (h *Handler) adminPage(w http.ResponseWriter, r *http.Request) {
	h.renderAdmin(w, r, http.StatusOK, page{})
}

func (h *Handler) renderAdmin(w http.ResponseWriter, r *http.Request, status int, p page) {
	products, err := h.deps.API.Products(r.Context(), 100, r.URL.Query().Get("page"))
	if err != nil {
		h.fail(w, r, "error", page{Title: "Admin"}, err)
		return
	}
	letters, err := h.deps.API.DeadLetters(r.Context(), h.session(r).Token)
	if err != nil {
		h.fail(w, r, "error", page{Title: "Admin"}, err)
		return
	}
	p.Title = "Admin"
	p.Data = adminView{Products: products, DeadLetters: letters}
	h.render(w, r, status, "admin", p)
}

// formInt parses a whole number the form sent; it records a message for
// field when it cannot.
func formInt(r *http.Request, field string, fields map[string]string) int64 {
	v := strings.TrimSpace(r.PostFormValue(field))
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		fields[field] = "must be a whole number"
	}
	return n
}

func (h *Handler) createProduct(w http.ResponseWriter, r *http.Request) {
	fields := map[string]string{}
	np := shopapi.NewProduct{
		SKU: strings.TrimSpace(r.PostFormValue("sku")), Name: r.PostFormValue("name"),
		PriceCents: formInt(r, "price_cents", fields), Stock: formInt(r, "stock", fields),
	}
	form := map[string]string{"sku": np.SKU, "name": np.Name, "price_cents": r.PostFormValue("price_cents"), "stock": r.PostFormValue("stock")}
	if len(fields) > 0 {
		h.renderAdmin(w, r, http.StatusBadRequest, page{Error: "Please correct the fields marked below.", Fields: fields, Form: form})
		return
	}
	if _, err := h.deps.API.CreateProduct(r.Context(), h.session(r).Token, np); err != nil {
		if p := shopapi.AsProblem(err); p != nil && p.Status < 500 && p.Status != http.StatusUnauthorized {
			for _, e := range p.Errors {
				fields[e.Field] = e.Detail
			}
			if p.Status == http.StatusConflict {
				fields["sku"] = "a product with this SKU exists"
			}
			h.renderAdmin(w, r, p.Status, page{Error: p.Error(), Fields: fields, Form: form})
			return
		}
		h.fail(w, r, "error", page{Title: "Admin"}, err)
		return
	}
	http.Redirect(w, r, "/admin?notice=created", http.StatusSeeOther)
}

func (h *Handler) restock(w http.ResponseWriter, r *http.Request) {
	sku := mux.Vars(r)["sku"]
	fields := map[string]string{}
	q := formInt(r, "quantity", fields)
	var err error
	if len(fields) == 0 {
		_, err = h.deps.API.Restock(r.Context(), h.session(r).Token, sku, q)
	}
	if p := shopapi.AsProblem(err); len(fields) > 0 || (p != nil && p.Status < 500 && p.Status != http.StatusUnauthorized) {
		msg := fields["quantity"]
		if p != nil {
			msg = p.Error()
			if d := p.Field("quantity"); d != "" {
				msg = d
			}
		}
		status := http.StatusBadRequest
		if p != nil {
			status = p.Status
		}
		// The restock forms are one per product: the message goes next to
		// the field of this product's form.
		h.renderAdmin(w, r, status, page{Error: "Restocking " + sku + " failed.", Fields: map[string]string{"restock-" + sku: msg}})
		return
	}
	if err != nil {
		h.fail(w, r, "error", page{Title: "Admin"}, err)
		return
	}
	http.Redirect(w, r, "/admin?notice=restocked#product-"+url.QueryEscape(sku), http.StatusSeeOther)
}
