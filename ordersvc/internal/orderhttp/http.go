// Package orderhttp serves the order API and the order service's event and
// timer endpoints: routes, JSON in and out, problem details.
package orderhttp

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"

	"shop/ordersvc/internal/order"
	"shop/platform/auth"
	"shop/platform/events"
	"shop/platform/httpx"
	"shop/platform/telemetry"
	"shop/platform/validation"
)

// Page sizes of GET /orders.
const (
	DefaultPageSize = 20
	MaxPageSize     = 100
)

// PaymentStatus tells an order's payment status (none, charged, declined,
// refunded).
type PaymentStatus interface {
	Status(ctx context.Context, orderID string) (string, error)
}

// Deps is what the handler needs.
type Deps struct {
	Service  *order.Service
	Payments PaymentStatus
	// Verifier checks the access tokens of the routes that need a caller.
	Verifier *auth.Verifier
	// DeadLetters keeps the messages of the consumed topics that failed
	// every delivery, listed to admins at GET /dead-letters.
	DeadLetters *events.DeadLetters
	// PubSub, OrdersTopic and InventoryTopic name what GET /dapr/subscribe
	// subscribes to.
	PubSub, OrdersTopic, InventoryTopic string
	// The app ids that publish OrdersTopic (ordersvc itself) and
	// InventoryTopic: events from any other source are dropped.
	OrdersAppID, InventoryAppID string
	SagaTimeout                 time.Duration
	TimeoutBinding              string // the cron input binding's name, and so its route
	// Metrics are the order metrics (NewMetrics): the sweep's findings go
	// there.
	Metrics *Metrics
}

// Handler serves the order routes.
type Handler struct {
	deps Deps
	svc  *order.Service
}

// New returns the order API handler.
func New(deps Deps) *Handler {
	if deps.Metrics == nil {
		deps.Metrics = NewMetrics(prometheus.NewRegistry())
	}
	return &Handler{deps: deps, svc: deps.Service}
}

// Register adds the order routes to r.
func (h *Handler) Register(r *mux.Router) {
	authn := func(f http.HandlerFunc) http.Handler { return h.deps.Verifier.Authenticate(f) }
	r.Handle("/orders", authn(h.place)).Methods(http.MethodPost)
	r.Handle("/orders", authn(h.list)).Methods(http.MethodGet)
	r.Handle("/orders/{id}", authn(h.get)).Methods(http.MethodGet)
	r.Handle("/orders/{id}/cancel", authn(h.cancel)).Methods(http.MethodPost)
	r.Handle("/dead-letters", h.deps.Verifier.Authenticate(auth.RequireAdmin(http.HandlerFunc(h.deps.DeadLetters.ServeList)))).Methods(http.MethodGet)
	// The sidecar's own routes: service invocations (the gateway, other
	// apps) are refused.
	sidecar := func(f http.HandlerFunc) http.Handler { return httpx.SidecarOnly(f) }
	// The topics ordersvc consumes: inventory outcomes, its own
	// order.cancelled (to refund), and the dead letters of both.
	subs := events.Subscriptions(h.deps.PubSub,
		events.Route{Topic: h.deps.InventoryTopic, Route: InventoryRoute},
		events.Route{Topic: h.deps.OrdersTopic, Route: OrdersRoute})
	r.Handle("/dapr/subscribe", sidecar(events.ServeSubscriptions(subs))).Methods(http.MethodGet)
	r.Handle(InventoryRoute, sidecar(events.HandleFrom([]string{h.deps.InventoryAppID}, h.onInventory))).Methods(http.MethodPost)
	r.Handle(OrdersRoute, sidecar(events.HandleFrom([]string{h.deps.OrdersAppID}, h.onOrders))).Methods(http.MethodPost)
	r.Handle(events.DeadLettersRoute, sidecar(h.deps.DeadLetters.Handler())).Methods(http.MethodPost)
	r.Handle("/"+h.deps.TimeoutBinding, sidecar(h.sweep)).Methods(http.MethodPost, http.MethodOptions)
}

type placeJSON struct {
	Items []struct {
		SKU      string `json:"sku"`
		Quantity int64  `json:"quantity"`
	} `json:"items"`
	Payment struct {
		CardToken string `json:"card_token"`
	} `json:"payment"`
}

type itemJSON struct {
	SKU            string `json:"sku"`
	Quantity       int64  `json:"quantity"`
	UnitPriceCents int64  `json:"unit_price_cents"`
}

type orderJSON struct {
	ID            string     `json:"id"`
	UserID        string     `json:"user_id"`
	Status        string     `json:"status"`
	StatusReason  string     `json:"status_reason"`
	Items         []itemJSON `json:"items"`
	TotalCents    int64      `json:"total_cents"`
	PaymentStatus string     `json:"payment_status,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
}

func toJSON(o order.Order) orderJSON {
	out := orderJSON{ID: o.ID, UserID: o.UserID, Status: string(o.Status), StatusReason: o.StatusReason,
		TotalCents: o.TotalCents, CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt, Items: []itemJSON{}}
	for _, it := range o.Items {
		out.Items = append(out.Items, itemJSON(it))
	}
	return out
}

func (h *Handler) place(w http.ResponseWriter, r *http.Request) {
	claims, _ := auth.FromContext(r.Context())
	key := r.Header.Get("Idempotency-Key")
	var in placeJSON
	if p := httpx.DecodeJSON(w, r, &in); p != nil {
		httpx.WriteProblem(w, p)
		return
	}
	req := order.PlaceRequest{UserID: claims.Subject, IdempotencyKey: key, CardToken: in.Payment.CardToken}
	for _, it := range in.Items {
		req.Lines = append(req.Lines, order.Line{SKU: it.SKU, Quantity: it.Quantity})
	}
	o, err := h.svc.Place(r.Context(), req)
	var invalid validation.Errors
	switch {
	case errors.As(err, &invalid):
		httpx.WriteProblem(w, httpx.InvalidFields(invalid))
		return
	case errors.Is(err, order.ErrKeyReused):
		httpx.WriteProblem(w, httpx.NewProblem(http.StatusUnprocessableEntity, "this Idempotency-Key was used for a different order"))
		return
	case err != nil:
		h.unavailable(w, r, err)
		return
	}
	telemetry.SetOrderID(r.Context(), o.ID)
	w.Header().Set("Location", "/orders/"+o.ID)
	httpx.WriteJSON(w, http.StatusAccepted, toJSON(o))
}

func (h *Handler) list(w http.ResponseWriter, r *http.Request) {
	claims, _ := auth.FromContext(r.Context())
	page, problem := httpx.ParsePage(r, DefaultPageSize, MaxPageSize, h.svc.ValidCursor)
	if problem != nil {
		httpx.WriteProblem(w, problem)
		return
	}
	userID := claims.Subject
	if claims.IsAdmin() {
		userID = ""
	}
	orders, next, err := h.svc.List(r.Context(), userID, page.After, page.Size)
	if errors.Is(err, order.ErrBadCursor) {
		// A cursor of another listing (an admin's, say) has the right form.
		httpx.WriteProblem(w, httpx.Invalid(validation.FieldError{Field: "page_token", Detail: "is not a token this API returned"}))
		return
	}
	if err != nil {
		h.unavailable(w, r, err)
		return
	}
	out := struct {
		Orders        []orderJSON `json:"orders"`
		NextPageToken string      `json:"next_page_token,omitempty"`
	}{Orders: []orderJSON{}}
	for _, o := range orders {
		out.Orders = append(out.Orders, toJSON(o))
	}
	out.NextPageToken = httpx.PageToken(next)
	httpx.WriteJSON(w, http.StatusOK, out)
}

// idVar returns the {id} of the path, or answers 404 (an id this service
// never made names no order) and returns false: ids become state keys,
// which refuse some characters.
func idVar(w http.ResponseWriter, r *http.Request) (string, bool) {
	id := mux.Vars(r)["id"]
	if !order.ValidID(id) {
		httpx.WriteProblem(w, httpx.NewProblem(http.StatusNotFound, "no such order"))
		return "", false
	}
	return id, true
}

func (h *Handler) get(w http.ResponseWriter, r *http.Request) {
	claims, _ := auth.FromContext(r.Context())
	id, ok := idVar(w, r)
	if !ok {
		return
	}
	o, err := h.svc.Get(r.Context(), id, claims.Subject, claims.IsAdmin())
	h.writeOrder(w, r, o, err)
}

func (h *Handler) cancel(w http.ResponseWriter, r *http.Request) {
	claims, _ := auth.FromContext(r.Context())
	id, ok := idVar(w, r)
	if !ok {
		return
	}
	o, err := h.svc.Cancel(r.Context(), id, claims.Subject, claims.IsAdmin())
	if errors.Is(err, order.ErrNotCancellable) {
		httpx.WriteProblem(w, httpx.NewProblem(http.StatusConflict, "only a pending or confirmed order can be cancelled"))
		return
	}
	h.writeOrder(w, r, o, err)
}

func (h *Handler) writeOrder(w http.ResponseWriter, r *http.Request, o order.Order, err error) {
	if errors.Is(err, order.ErrNotFound) {
		httpx.WriteProblem(w, httpx.NewProblem(http.StatusNotFound, "no such order"))
		return
	}
	if err != nil {
		h.unavailable(w, r, err)
		return
	}
	out := toJSON(o)
	if out.PaymentStatus, err = h.deps.Payments.Status(r.Context(), o.ID); err != nil {
		h.unavailable(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}

func (h *Handler) unavailable(w http.ResponseWriter, r *http.Request, err error) {
	httpx.Logger(r.Context()).WithError(err).Error("request failed")
	w.Header().Set("Retry-After", "1")
	httpx.WriteProblem(w, httpx.NewProblem(http.StatusServiceUnavailable, "the order service cannot answer now; try again"))
}

// sweep is called by the cron input binding: it publishes events left in
// order records and cancels timed-out orders.
func (h *Handler) sweep(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodOptions {
		w.WriteHeader(http.StatusOK)
		return
	}
	res, err := h.svc.Sweep(r.Context(), h.deps.SagaTimeout)
	h.deps.Metrics.sweep(res)
	log := httpx.Logger(r.Context()).WithFields(map[string]any{"relayed": res.Relayed, "timed_out": res.TimedOut, "unwatched": res.Unwatched})
	if err != nil {
		// What failed is tried again at the next tick.
		log.WithError(err).Warn("sweep incomplete")
	} else if res.Relayed > 0 || res.TimedOut > 0 {
		log.Info("sweep: events relayed, pending orders timed out")
	}
	w.WriteHeader(http.StatusOK)
}
