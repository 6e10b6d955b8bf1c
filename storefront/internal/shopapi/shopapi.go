// Package shopapi calls the shop's three services for the storefront,
// through the storefront's own Dapr sidecar (HTTP service invocation:
// /v1.0/invoke/<app-id>/method/<route>). It forwards the signed-in
// person's access token and turns problem details into *Problem errors.
package shopapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"shop/platform/events"
)

// AppIDs are the app ids of the services the storefront calls.
type AppIDs struct {
	Users, Inventory, Orders string
}

// Client calls the services through the sidecar at Sidecar (host:port of
// its HTTP API), sending DaprToken (the sidecar's DAPR_API_TOKEN).
type Client struct {
	sidecar   string
	daprToken string
	apps      AppIDs
	http      *http.Client
}

// New returns a Client of the sidecar's HTTP API at addr (host:port).
func New(addr, daprToken string, apps AppIDs) *Client {
	return &Client{sidecar: addr, daprToken: daprToken, apps: apps, http: &http.Client{Timeout: 15 * time.Second}}
}

// FieldError is one bad field of a problem.
type FieldError struct {
	Field  string `json:"field"`
	Detail string `json:"detail"`
}

// Problem is a service's RFC 9457 answer to a request it refused.
type Problem struct {
	Title  string       `json:"title"`
	Status int          `json:"status"`
	Detail string       `json:"detail"`
	Errors []FieldError `json:"errors"`
}

func (p *Problem) Error() string {
	if p.Detail != "" {
		return p.Detail
	}
	if p.Title != "" {
		return p.Title
	}
	return http.StatusText(p.Status)
}

// Field returns the detail of the named field's error, or "".
func (p *Problem) Field(name string) string {
	for _, e := range p.Errors {
		if e.Field == name {
			return e.Detail
		}
	}
	return ""
}

// AsProblem returns err's *Problem, or nil.
func AsProblem(err error) *Problem {
	var p *Problem
	if errors.As(err, &p) {
		return p
	}
	return nil
}

// IsStatus reports whether err is a problem with the HTTP status.
func IsStatus(err error, status int) bool {
	p := AsProblem(err)
	return p != nil && p.Status == status
}

// call is one invocation: method and route on app, with token (an access
// token, or "") and body (JSON, or nil); out receives a 2xx JSON answer.
type call struct {
	app, method, route, token, idempotencyKey string
	body, out                                 any
}

func (c *Client) do(ctx context.Context, cl call) error {
	var body io.Reader
	if cl.body != nil {
		b, err := json.Marshal(cl.body)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	u := "http://" + c.sidecar + "/v1.0/invoke/" + url.PathEscape(cl.app) + "/method" + cl.route
	req, err := http.NewRequestWithContext(ctx, cl.method, u, body)
	if err != nil {
		return err
	}
	if c.daprToken != "" {
		req.Header.Set("dapr-api-token", c.daprToken)
	}
	if cl.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if cl.token != "" {
		req.Header.Set("Authorization", "Bearer "+cl.token)
	}
	if cl.idempotencyKey != "" {
		req.Header.Set("Idempotency-Key", cl.idempotencyKey)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s %s: %w", cl.method, cl.app, cl.route, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("%s %s %s: %w", cl.method, cl.app, cl.route, err)
	}
	if resp.StatusCode/100 != 2 {
		p := &Problem{Status: resp.StatusCode}
		if strings.Contains(resp.Header.Get("Content-Type"), "json") {
			_ = json.Unmarshal(data, p)
		}
		p.Status = resp.StatusCode
		return p
	}
	if cl.out != nil {
		if err := json.Unmarshal(data, cl.out); err != nil {
			return fmt.Errorf("%s %s %s: decode answer: %w", cl.method, cl.app, cl.route, err)
		}
	}
	return nil
}

// User is an account.
type User struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	Name  string `json:"name"`
	Role  string `json:"role"`
}

// Token is an access token and its lifetime.
type Token struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int    `json:"expires_in"`
}

// Register creates an account.
func (c *Client) Register(ctx context.Context, email, password, name string) (User, error) {
	var u User
	err := c.do(ctx, call{app: c.apps.Users, method: http.MethodPost, route: "/users",
		body: map[string]string{"email": email, "password": password, "name": name}, out: &u})
	return u, err
}

// SignIn exchanges an email and password for an access token.
func (c *Client) SignIn(ctx context.Context, email, password string) (Token, error) {
	var t Token
	err := c.do(ctx, call{app: c.apps.Users, method: http.MethodPost, route: "/auth/token",
		body: map[string]string{"email": email, "password": password}, out: &t})
	return t, err
}

// Me is the signed-in person's account.
func (c *Client) Me(ctx context.Context, token string) (User, error) {
	var u User
	err := c.do(ctx, call{app: c.apps.Users, method: http.MethodGet, route: "/users/me", token: token, out: &u})
	return u, err
}

// Product is one product of the catalog.
type Product struct {
	SKU        string `json:"sku"`
	Name       string `json:"name"`
	PriceCents int64  `json:"price_cents"`
	Available  int64  `json:"available"`
	Reserved   int64  `json:"reserved"`
}

// ProductPage is one page of the catalog.
type ProductPage struct {
	Products      []Product `json:"products"`
	NextPageToken string    `json:"next_page_token"`
}

// Products returns one page of the catalog (pageToken "" for the first).
func (c *Client) Products(ctx context.Context, pageSize int, pageToken string) (ProductPage, error) {
	q := url.Values{"page_size": {fmt.Sprint(pageSize)}}
	if pageToken != "" {
		q.Set("page_token", pageToken)
	}
	var p ProductPage
	err := c.do(ctx, call{app: c.apps.Inventory, method: http.MethodGet, route: "/products?" + q.Encode(), out: &p})
	return p, err
}

// Product returns one product.
func (c *Client) Product(ctx context.Context, sku string) (Product, error) {
	var p Product
	err := c.do(ctx, call{app: c.apps.Inventory, method: http.MethodGet, route: "/products/" + url.PathEscape(sku), out: &p})
	return p, err
}

// NewProduct is what an admin enters to create a product.
type NewProduct struct {
	SKU        string `json:"sku"`
	Name       string `json:"name"`
	PriceCents int64  `json:"price_cents"`
	Stock      int64  `json:"stock"`
}

// CreateProduct adds a product (admin).
func (c *Client) CreateProduct(ctx context.Context, token string, p NewProduct) (Product, error) {
	var out Product
	err := c.do(ctx, call{app: c.apps.Inventory, method: http.MethodPost, route: "/products", token: token, body: p, out: &out})
	return out, err
}

// Restock adds quantity units of a product (admin).
func (c *Client) Restock(ctx context.Context, token, sku string, quantity int64) (Product, error) {
	var out Product
	err := c.do(ctx, call{app: c.apps.Inventory, method: http.MethodPost, route: "/products/" + url.PathEscape(sku) + "/restock",
		token: token, body: map[string]int64{"quantity": quantity}, out: &out})
	return out, err
}

// Line is one line of an order.
type Line struct {
	SKU            string `json:"sku"`
	Quantity       int64  `json:"quantity"`
	UnitPriceCents int64  `json:"unit_price_cents,omitempty"`
}

// Order is an order and where its saga is.
type Order struct {
	ID           string    `json:"id"`
	Status       string    `json:"status"`
	StatusReason string    `json:"status_reason"`
	Items        []Line    `json:"items"`
	TotalCents   int64     `json:"total_cents"`
	CreatedAt    time.Time `json:"created_at"`
}

// OrderPage is one page of orders.
type OrderPage struct {
	Orders        []Order `json:"orders"`
	NextPageToken string  `json:"next_page_token"`
}

// PlaceOrder places an order; the same idempotencyKey places it once.
func (c *Client) PlaceOrder(ctx context.Context, token, idempotencyKey string, lines []Line, cardToken string) (Order, error) {
	body := map[string]any{"items": lines, "payment": map[string]string{"card_token": cardToken}}
	var o Order
	err := c.do(ctx, call{app: c.apps.Orders, method: http.MethodPost, route: "/orders", token: token,
		idempotencyKey: idempotencyKey, body: body, out: &o})
	return o, err
}

// Orders returns one page of the caller's orders.
func (c *Client) Orders(ctx context.Context, token string, pageSize int, pageToken string) (OrderPage, error) {
	q := url.Values{"page_size": {fmt.Sprint(pageSize)}}
	if pageToken != "" {
		q.Set("page_token", pageToken)
	}
	var p OrderPage
	err := c.do(ctx, call{app: c.apps.Orders, method: http.MethodGet, route: "/orders?" + q.Encode(), token: token, out: &p})
	return p, err
}

// Order returns one of the caller's orders.
func (c *Client) Order(ctx context.Context, token, id string) (Order, error) {
	var o Order
	err := c.do(ctx, call{app: c.apps.Orders, method: http.MethodGet, route: "/orders/" + url.PathEscape(id), token: token, out: &o})
	return o, err
}

// CancelOrder cancels a pending or confirmed order.
func (c *Client) CancelOrder(ctx context.Context, token, id string) (Order, error) {
	var o Order
	err := c.do(ctx, call{app: c.apps.Orders, method: http.MethodPost, route: "/orders/" + url.PathEscape(id) + "/cancel", token: token, out: &o})
	return o, err
}

// DeadLetter is a message a service could not process, as the services
// list them.
type DeadLetter = events.DeadLetter

// DeadLetters returns the dead letters kept by ordersvc and inventorysvc
// (admin), by the service that kept them.
func (c *Client) DeadLetters(ctx context.Context, token string) (map[string][]DeadLetter, error) {
	out := map[string][]DeadLetter{}
	for name, app := range map[string]string{"ordersvc": c.apps.Orders, "inventorysvc": c.apps.Inventory} {
		var page struct {
			DeadLetters []DeadLetter `json:"dead_letters"`
		}
		if err := c.do(ctx, call{app: app, method: http.MethodGet, route: "/dead-letters", token: token, out: &page}); err != nil {
			return nil, err
		}
		out[name] = page.DeadLetters
	}
	return out, nil
}
