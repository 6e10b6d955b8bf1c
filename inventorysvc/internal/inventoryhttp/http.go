// Package inventoryhttp serves the inventory API: routes, JSON in and out,
// problem details for every error, and the saga's event subscription.
package inventoryhttp

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"

	"shop/inventorysvc/internal/inventory"
	"shop/platform/auth"
	"shop/platform/events"
	"shop/platform/httpx"
	"shop/platform/validation"
)

// Page sizes of GET /products.
const (
	DefaultPageSize = 20
	MaxPageSize     = 100
)

// MaxLookupSKUs bounds the distinct SKUs of one POST /products/lookup.
const MaxLookupSKUs = 100

// Deps is what the handler needs.
type Deps struct {
	Service *inventory.Service
	// Verifier checks the access tokens of the admin routes.
	Verifier *auth.Verifier
	// DeadLetters keeps the orders topic's messages that failed every
	// delivery, listed to admins at GET /dead-letters.
	DeadLetters *events.DeadLetters
	// PubSub and OrdersTopic name what GET /dapr/subscribe subscribes to.
	PubSub, OrdersTopic string
	// OrdersAppID is the app id of ordersvc, the only publisher of the
	// orders topic: events from any other source are dropped.
	OrdersAppID string
	// Registry holds the service's metrics; New adds the domain's
	// counters. Nil: a registry of the handler's own.
	Registry *prometheus.Registry
}

// Handler serves the inventory routes.
type Handler struct {
	deps Deps
	svc  *inventory.Service
}

// New returns the inventory API handler.
func New(deps Deps) *Handler {
	if deps.Registry == nil {
		deps.Registry = prometheus.NewRegistry()
	}
	registerStats(deps.Registry, deps.Service)
	return &Handler{deps: deps, svc: deps.Service}
}

// Register adds the inventory routes to r.
func (h *Handler) Register(r *mux.Router) {
	r.HandleFunc("/products", h.listProducts).Methods(http.MethodGet)
	r.Handle("/products", h.admin(h.createProduct)).Methods(http.MethodPost)
	r.HandleFunc("/products/lookup", h.lookup).Methods(http.MethodPost)
	r.HandleFunc("/products/{sku}", h.getProduct).Methods(http.MethodGet)
	r.Handle("/products/{sku}/restock", h.admin(h.restock)).Methods(http.MethodPost)
	r.Handle("/reservations/{order_id}", h.admin(h.getReservation)).Methods(http.MethodGet)
	// The sidecar's own routes: service invocations (the gateway, other
	// apps) are refused.
	subs := events.Subscriptions(h.deps.PubSub, events.Route{Topic: h.deps.OrdersTopic, Route: OrdersRoute})
	r.Handle("/dapr/subscribe", httpx.SidecarOnly(events.ServeSubscriptions(subs))).Methods(http.MethodGet)
	r.Handle(OrdersRoute, httpx.SidecarOnly(h.orderEvents())).Methods(http.MethodPost)
	r.Handle(events.DeadLettersRoute, httpx.SidecarOnly(h.deps.DeadLetters.Handler())).Methods(http.MethodPost)
	r.Handle("/dead-letters", h.admin(h.deps.DeadLetters.ServeList)).Methods(http.MethodGet)
	r.Handle("/metrics", h.metrics()).Methods(http.MethodGet)
}

// admin lets only callers with an admin access token through.
func (h *Handler) admin(f http.HandlerFunc) http.Handler {
	return h.deps.Verifier.Authenticate(auth.RequireAdmin(f))
}

type productJSON struct {
	SKU        string `json:"sku"`
	Name       string `json:"name"`
	PriceCents int64  `json:"price_cents"`
	Available  int64  `json:"available"`
	Reserved   int64  `json:"reserved"`
	Sold       int64  `json:"sold"`
}

func toJSON(p inventory.Product) productJSON {
	return productJSON{SKU: p.SKU, Name: p.Name, PriceCents: p.PriceCents, Available: p.Available, Reserved: p.Reserved, Sold: p.Sold}
}

type listJSON struct {
	Products      []productJSON `json:"products"`
	NextPageToken string        `json:"next_page_token,omitempty"`
}

func (h *Handler) listProducts(w http.ResponseWriter, r *http.Request) {
	req, problem := httpx.ParsePage(r, DefaultPageSize, MaxPageSize, inventory.ValidSKU)
	if problem != nil {
		httpx.WriteProblem(w, problem)
		return
	}
	page, err := h.svc.Products(r.Context(), req.After, req.Size)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := listJSON{Products: make([]productJSON, 0, len(page.Products))}
	for _, p := range page.Products {
		out.Products = append(out.Products, toJSON(p))
	}
	out.NextPageToken = httpx.PageToken(page.Next)
	httpx.WriteJSON(w, http.StatusOK, out)
}

// skuVar returns the {sku} of the path, or writes a 400 and returns false.
func skuVar(w http.ResponseWriter, r *http.Request) (string, bool) {
	sku := mux.Vars(r)["sku"]
	if !inventory.ValidSKU(sku) {
		httpx.WriteProblem(w, httpx.Invalid(validation.FieldError{Field: "sku", Detail: inventory.SKUDetail}))
		return "", false
	}
	return sku, true
}

func (h *Handler) getProduct(w http.ResponseWriter, r *http.Request) {
	sku, ok := skuVar(w, r)
	if !ok {
		return
	}
	p, err := h.svc.Product(r.Context(), sku)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, toJSON(p))
}

type createRequest struct {
	SKU        *string `json:"sku"`
	Name       *string `json:"name"`
	PriceCents *int64  `json:"price_cents"`
	Stock      *int64  `json:"stock"`
}

func (h *Handler) createProduct(w http.ResponseWriter, r *http.Request) {
	var req createRequest
	if p := httpx.DecodeJSON(w, r, &req); p != nil {
		httpx.WriteProblem(w, p)
		return
	}
	var missing []validation.FieldError
	for _, f := range []struct {
		name    string
		present bool
	}{{"sku", req.SKU != nil}, {"name", req.Name != nil}, {"price_cents", req.PriceCents != nil}, {"stock", req.Stock != nil}} {
		if !f.present {
			missing = append(missing, validation.FieldError{Field: f.name, Detail: "is required"})
		}
	}
	if len(missing) > 0 {
		httpx.WriteProblem(w, httpx.Invalid(missing...))
		return
	}
	if p := httpx.CheckTexts(map[string]string{"name": *req.Name}); p != nil {
		httpx.WriteProblem(w, p)
		return
	}
	p, err := h.svc.CreateProduct(r.Context(), inventory.NewProduct{SKU: *req.SKU, Name: *req.Name, PriceCents: *req.PriceCents, Stock: *req.Stock})
	if errors.Is(err, inventory.ErrExists) {
		httpx.WriteProblem(w, httpx.NewProblem(http.StatusConflict, "a product with sku "+*req.SKU+" exists"))
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/products/"+p.SKU)
	httpx.WriteJSON(w, http.StatusCreated, toJSON(p))
}

type restockRequest struct {
	Quantity *int64 `json:"quantity"`
}

func (h *Handler) restock(w http.ResponseWriter, r *http.Request) {
	sku, ok := skuVar(w, r)
	if !ok {
		return
	}
	var req restockRequest
	if p := httpx.DecodeJSON(w, r, &req); p != nil {
		httpx.WriteProblem(w, p)
		return
	}
	if req.Quantity == nil {
		httpx.WriteProblem(w, httpx.Invalid(validation.FieldError{Field: "quantity", Detail: "is required"}))
		return
	}
	p, err := h.svc.Restock(r.Context(), sku, *req.Quantity)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, toJSON(p))
}

type lookupRequest struct {
	SKUs []string `json:"skus"`
}

type lookupProductJSON struct {
	SKU        string `json:"sku"`
	Name       string `json:"name"`
	PriceCents int64  `json:"price_cents"`
	Available  int64  `json:"available"`
}

type lookupJSON struct {
	Products []lookupProductJSON `json:"products"`
	Missing  []string            `json:"missing"`
}

// lookup answers the price and availability of many products at once: the
// order service calls it (service invocation) to price a new order. It is
// public, as GET /products is: prices and stock levels are public.
func (h *Handler) lookup(w http.ResponseWriter, r *http.Request) {
	var req lookupRequest
	if p := httpx.DecodeJSON(w, r, &req); p != nil {
		httpx.WriteProblem(w, p)
		return
	}
	var bad []validation.FieldError
	distinct := map[string]bool{}
	for i, sku := range req.SKUs {
		if !inventory.ValidSKU(sku) {
			bad = append(bad, validation.FieldError{Field: fmt.Sprintf("skus[%d]", i), Detail: inventory.SKUDetail})
		}
		distinct[sku] = true
	}
	switch {
	case len(req.SKUs) == 0:
		bad = append(bad, validation.FieldError{Field: "skus", Detail: "is required: a list of 1 to " + strconv.Itoa(MaxLookupSKUs) + " SKUs"})
	case len(distinct) > MaxLookupSKUs:
		bad = append(bad, validation.FieldError{Field: "skus", Detail: "must name at most " + strconv.Itoa(MaxLookupSKUs) + " distinct SKUs"})
	}
	if len(bad) > 0 {
		httpx.WriteProblem(w, httpx.Invalid(bad...))
		return
	}
	found, missing, err := h.svc.Lookup(r.Context(), req.SKUs)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := lookupJSON{Products: make([]lookupProductJSON, 0, len(found)), Missing: missing}
	for _, p := range found {
		out.Products = append(out.Products, lookupProductJSON{SKU: p.SKU, Name: p.Name, PriceCents: p.PriceCents, Available: p.Available})
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}

type reservationJSON struct {
	OrderID    string                `json:"order_id"`
	Status     inventory.Status      `json:"status"`
	Outcome    inventory.Outcome     `json:"outcome,omitempty"`
	Lines      []inventory.Line      `json:"lines"`
	Rejections []inventory.Rejection `json:"rejections"`
}

// getReservation shows an operator what the inventory did for an order.
func (h *Handler) getReservation(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["order_id"]
	// "||" separates the parts of a state key: the store refuses it.
	if !inventory.ValidOrderID(id) || strings.Contains(id, "||") {
		httpx.WriteProblem(w, httpx.Invalid(validation.FieldError{Field: "order_id", Detail: "must be 1 to 128 printable characters without spaces"}))
		return
	}
	res, err := h.svc.Reservation(r.Context(), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := reservationJSON{OrderID: res.OrderID, Status: res.Status, Outcome: res.Outcome, Lines: res.Lines, Rejections: res.Rejections}
	if out.Lines == nil {
		out.Lines = []inventory.Line{}
	}
	if out.Rejections == nil {
		out.Rejections = []inventory.Rejection{}
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}

// fail translates a domain error into its problem, once.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	var invalid validation.Errors
	switch {
	case errors.As(err, &invalid):
		httpx.WriteProblem(w, httpx.InvalidFields(invalid))
	case errors.Is(err, inventory.ErrNotFound):
		httpx.WriteProblem(w, httpx.NewProblem(http.StatusNotFound, "no such resource: "+r.URL.Path))
	case errors.Is(err, inventory.ErrExists):
		httpx.WriteProblem(w, httpx.NewProblem(http.StatusConflict, "it exists already"))
	case errors.Is(err, inventory.ErrConflict):
		// Every retry lost a race: the caller may try again.
		httpx.Logger(r.Context()).WithError(err).Warn("request gave up on conflicts")
		w.Header().Set("Retry-After", "1")
		httpx.WriteProblem(w, httpx.NewProblem(http.StatusServiceUnavailable, "too many concurrent updates; try again"))
	default:
		httpx.Logger(r.Context()).WithError(err).Error("request failed")
		httpx.WriteProblem(w, httpx.NewProblem(http.StatusInternalServerError, "internal error"))
	}
}
