package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"shop/e2e/harness"
)

// shop is the system under load, called through the gateway as a client
// would.
type shop struct {
	sys    *harness.System
	client *http.Client
	runID  string // makes emails and SKUs of this run unique
	seq    atomic.Int64
}

func (s *shop) unique(prefix string) string {
	return fmt.Sprintf("%s-%s-%d", prefix, s.runID, s.seq.Add(1))
}

// do is a set-up call (not measured) through the harness, which waits and
// retries when the gateway's rate limit answers 429.
func (s *shop) do(ctx context.Context, want int, req harness.Request, out any) error {
	resp, err := s.sys.Do(ctx, req)
	if err != nil {
		return err
	}
	if resp.Status != want {
		return fmt.Errorf("%s %s %s = %d %s; want %d", req.Method, req.Service, req.Path, resp.Status, resp.Body, want)
	}
	if out != nil {
		return resp.JSON(out)
	}
	return nil
}

func bearer(token string) http.Header { return http.Header{"Authorization": {"Bearer " + token}} }

const customerPassword = "benchmark-password"

// customer is a registered user with a token.
type customer struct {
	ID, Token string
}

// newCustomers registers n customers through the API and logs them in,
// a few at a time.
func (s *shop) newCustomers(ctx context.Context, n int) ([]customer, error) {
	out := make([]customer, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	slots := make(chan struct{}, 4)
	for i := range out {
		wg.Add(1)
		go func() {
			defer wg.Done()
			slots <- struct{}{}
			defer func() { <-slots }()
			email := s.unique("bench") + "@example.com"
			var u struct {
				ID string `json:"id"`
			}
			if errs[i] = s.do(ctx, http.StatusCreated, harness.Request{Method: http.MethodPost, Service: "usersvc", Path: "/users",
				Body: map[string]string{"email": email, "password": customerPassword, "name": "Bench Customer"}}, &u); errs[i] != nil {
				return
			}
			tok, err := s.login(ctx, email, customerPassword)
			out[i], errs[i] = customer{ID: u.ID, Token: tok}, err
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *shop) login(ctx context.Context, email, password string) (string, error) {
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	err := s.do(ctx, http.StatusOK, harness.Request{Method: http.MethodPost, Service: "usersvc", Path: "/auth/token",
		Body: map[string]string{"email": email, "password": password}}, &tok)
	return tok.AccessToken, err
}

// adminToken logs in the admin account that the system's secrets
// bootstrap.
func (s *shop) adminToken(ctx context.Context) (string, error) {
	return s.login(ctx, s.sys.AdminEmail, s.sys.AdminPassword)
}

// newProduct creates a product with stock units and returns its SKU.
func (s *shop) newProduct(ctx context.Context, admin string, stock int) (string, error) {
	sku := strings.ToUpper(fmt.Sprintf("BENCH-%s-%d", s.runID, s.seq.Add(1)))
	return sku, s.do(ctx, http.StatusCreated, harness.Request{Method: http.MethodPost, Service: "inventorysvc", Path: "/products", Header: bearer(admin),
		Body: map[string]any{"sku": sku, "name": "Benchmark product", "price_cents": 1999, "stock": stock}}, nil)
}

// placeOrder is a call that places a one-line order of one unit: request
// i is for skus[i % len(skus)], by customers[i % len(customers)], with an
// Idempotency-Key of its own, as a client that may retry would send it.
func (s *shop) placeOrder(customers []customer, skus []string) call {
	url := s.sys.InvokeURL("ordersvc", "/orders")
	bodies := make([][]byte, len(skus))
	for i, sku := range skus {
		bodies[i] = []byte(`{"items":[{"sku":"` + sku + `","quantity":1}],"payment":{"card_token":"tok_visa"}}`)
	}
	key := s.unique("order")
	return func(ctx context.Context, client *http.Client, i int) (int, []byte, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(bodies[i%len(bodies)]))
		if err != nil {
			return 0, nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+customers[i%len(customers)].Token)
		req.Header.Set("Idempotency-Key", key+"-"+strconv.Itoa(i))
		return send(client, req)
	}
}

// get is a call that GETs url with the header.
func get(url string, header http.Header) call {
	return func(ctx context.Context, client *http.Client, _ int) (int, []byte, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return 0, nil, err
		}
		for k, v := range header {
			req.Header[k] = v
		}
		return send(client, req)
	}
}

// order is the part of an order the benchmark reads.
type order struct {
	ID        string    `json:"id"`
	Status    string    `json:"status"`
	Reason    string    `json:"status_reason"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// orders lists every order of the customer, a page of 100 at a time.
func (s *shop) orders(ctx context.Context, c customer) ([]order, error) {
	var all []order
	token := ""
	for {
		path := "/orders?page_size=100"
		if token != "" {
			path += "&page_token=" + token
		}
		var page struct {
			Orders []order `json:"orders"`
			Next   string  `json:"next_page_token"`
		}
		if err := s.do(ctx, http.StatusOK, harness.Request{Method: http.MethodGet, Service: "ordersvc", Path: path, Header: bearer(c.Token)}, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Orders...)
		if page.Next == "" {
			return all, nil
		}
		token = page.Next
	}
}

// settle polls the orders of the customers that still have one of ids
// pending (ids maps each order to its customer's index), once a second,
// until none is pending or timeout passes. It records what it finds in
// found, which a later call continues from.
func (s *shop) settle(ctx context.Context, customers []customer, ids map[string]int, found map[string]order, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		waiting := map[int]bool{}
		for id, c := range ids {
			if o, ok := found[id]; !ok || o.Status == "pending" {
				waiting[c] = true
			}
		}
		if len(waiting) == 0 || time.Now().After(deadline) {
			return nil
		}
		for c := range waiting {
			list, err := s.orders(ctx, customers[c])
			if err != nil {
				return err
			}
			for _, o := range list {
				if _, ok := ids[o.ID]; ok {
					found[o.ID] = o
				}
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}
