// Package inventoryhttp serves the inventory API: routes, JSON in and out,
// and problem details for every error.
package inventoryhttp

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"

	"github.com/gorilla/mux"

	"shop/inventorysvc/internal/inventory"
	"shop/platform/httpx"
)

// Page sizes of GET /products.
const (
	DefaultPageSize = 20
	MaxPageSize     = 100
)

// Handler serves the inventory routes.
type Handler struct {
	store inventory.Store
}

// New returns the inventory API handler.
func New(store inventory.Store) *Handler {
	return &Handler{store: store}
}

// Register adds the inventory routes to r.
func (h *Handler) Register(r *mux.Router) {
	r.HandleFunc("/products", h.listProducts).Methods(http.MethodGet)
	r.HandleFunc("/products/{sku}", h.getProduct).Methods(http.MethodGet)
}

type productJSON struct {
	SKU        string `json:"sku"`
	Name       string `json:"name"`
	PriceCents int64  `json:"price_cents"`
	Available  int64  `json:"available"`
	Reserved   int64  `json:"reserved"`
}

func toJSON(p inventory.Product) productJSON {
	return productJSON{SKU: p.SKU, Name: p.Name, PriceCents: p.PriceCents, Available: p.Available, Reserved: p.Reserved}
}

type listJSON struct {
	Products      []productJSON `json:"products"`
	NextPageToken string        `json:"next_page_token,omitempty"`
}

func (h *Handler) listProducts(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	size := DefaultPageSize
	var bad []httpx.FieldError
	if v := q.Get("page_size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxPageSize {
			bad = append(bad, httpx.FieldError{Field: "page_size", Detail: "must be a whole number from 1 to " + strconv.Itoa(MaxPageSize)})
		}
		size = n
	}
	var after string
	if v := q.Get("page_token"); v != "" {
		b, err := base64.RawURLEncoding.DecodeString(v)
		if err != nil || !inventory.ValidSKU(string(b)) {
			bad = append(bad, httpx.FieldError{Field: "page_token", Detail: "is not a token this API returned"})
		}
		after = string(b)
	}
	if len(bad) > 0 {
		httpx.WriteProblem(w, httpx.Invalid(bad...))
		return
	}
	page, err := h.store.List(r.Context(), after, size)
	if err != nil {
		h.internal(w, r, err)
		return
	}
	out := listJSON{Products: make([]productJSON, 0, len(page.Products))}
	for _, p := range page.Products {
		out.Products = append(out.Products, toJSON(p))
	}
	if page.Next != "" {
		out.NextPageToken = base64.RawURLEncoding.EncodeToString([]byte(page.Next))
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}

func (h *Handler) getProduct(w http.ResponseWriter, r *http.Request) {
	sku := mux.Vars(r)["sku"]
	if !inventory.ValidSKU(sku) {
		httpx.WriteProblem(w, httpx.Invalid(httpx.FieldError{Field: "sku", Detail: "must be 2-32 upper-case letters, digits or dashes"}))
		return
	}
	p, err := h.store.Get(r.Context(), sku)
	if errors.Is(err, inventory.ErrNotFound) {
		httpx.WriteProblem(w, httpx.NewProblem(http.StatusNotFound, "no product with sku "+sku))
		return
	}
	if err != nil {
		h.internal(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, toJSON(p))
}

func (h *Handler) internal(w http.ResponseWriter, r *http.Request, err error) {
	httpx.Logger(r.Context()).WithError(err).Error("request failed")
	httpx.WriteProblem(w, httpx.NewProblem(http.StatusInternalServerError, "internal error"))
}
