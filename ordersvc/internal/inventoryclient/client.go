// Package inventoryclient prices order lines with the inventory service,
// through Dapr service invocation. Timeouts, retries and the circuit breaker
// of that call are the sidecar's (a Dapr Resiliency resource), not Go code.
package inventoryclient

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	dapr "github.com/dapr/go-sdk/client"
)

// Invoker is the part of the Dapr client the inventory client calls.
type Invoker interface {
	InvokeMethodWithContent(ctx context.Context, appID, methodName, verb string, content *dapr.DataContent) ([]byte, error)
}

// Client implements order.Inventory.
type Client struct {
	invoker Invoker
	appID   string
}

// New returns a client of the inventory service with app id appID.
func New(invoker Invoker, appID string) *Client {
	return &Client{invoker: invoker, appID: appID}
}

type lookupRequest struct {
	SKUs []string `json:"skus"`
}

type lookupResponse struct {
	Products []struct {
		SKU        string `json:"sku"`
		PriceCents int64  `json:"price_cents"`
	} `json:"products"`
	Missing []string `json:"missing"`
}

// Prices looks up every SKU in one call to POST /products/lookup.
func (c *Client) Prices(ctx context.Context, skus []string) (map[string]int64, []string, error) {
	body, err := json.Marshal(lookupRequest{SKUs: skus})
	if err != nil {
		return nil, nil, err
	}
	out, err := c.invoker.InvokeMethodWithContent(ctx, c.appID, "products/lookup", "post",
		&dapr.DataContent{ContentType: "application/json", Data: body})
	if err != nil {
		return nil, nil, fmt.Errorf("invoke %s products/lookup: %w", c.appID, err)
	}
	var resp lookupResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		return nil, nil, fmt.Errorf("decode lookup answer %.200q: %w", out, err)
	}
	prices := make(map[string]int64, len(resp.Products))
	for _, p := range resp.Products {
		prices[p.SKU] = p.PriceCents
	}
	missing := resp.Missing
	for _, sku := range skus {
		if _, ok := prices[sku]; !ok && !slices.Contains(missing, sku) {
			missing = append(missing, sku)
		}
	}
	return prices, missing, nil
}
