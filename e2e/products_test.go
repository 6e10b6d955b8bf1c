package e2e

import (
	"context"
	"net/http"
	"testing"

	"shop/e2e/harness"
)

type product struct {
	SKU        string `json:"sku"`
	Name       string `json:"name"`
	PriceCents int64  `json:"price_cents"`
	Available  int64  `json:"available"`
	Reserved   int64  `json:"reserved"`
	Sold       int64  `json:"sold"`
}

type productPage struct {
	Products      []product `json:"products"`
	NextPageToken string    `json:"next_page_token"`
}

func TestCatalogIsSeededAndPaginated(t *testing.T) {
	ctx := context.Background()
	seen := map[string]bool{}
	token, last := "", ""
	for pages := 0; ; pages++ {
		// Other tests add products; this bound only catches a loop.
		if pages > 1000 {
			t.Fatal("pagination does not end")
		}
		path := "/products?page_size=2"
		if token != "" {
			path += "&page_token=" + token
		}
		resp, err := sys.Do(ctx, harness.Request{Method: http.MethodGet, Service: "inventorysvc", Path: path})
		if err != nil {
			t.Fatal(err)
		}
		if resp.Status != http.StatusOK {
			t.Fatalf("GET %s = %d %s; want 200", path, resp.Status, resp.Body)
		}
		var page productPage
		if err := resp.JSON(&page); err != nil {
			t.Fatal(err)
		}
		if len(page.Products) > 2 {
			t.Errorf("GET %s returned %d products; want at most 2", path, len(page.Products))
		}
		for _, p := range page.Products {
			if seen[p.SKU] {
				t.Fatalf("product %s listed twice", p.SKU)
			}
			if p.SKU <= last {
				t.Errorf("product %s listed after %s; want SKU order", p.SKU, last)
			}
			seen[p.SKU], last = true, p.SKU
		}
		if page.NextPageToken == "" {
			break
		}
		token = page.NextPageToken
	}
	for _, sku := range []string{"BOOK-GO", "MUG-DAPR", "SHIRT-GOPHER", "STICKER-PACK", "HOODIE-CNCF"} {
		if !seen[sku] {
			t.Errorf("demo product %s is not in the catalog", sku)
		}
	}
}

func TestGetProduct(t *testing.T) {
	ctx := context.Background()
	resp, err := sys.Do(ctx, harness.Request{Method: http.MethodGet, Service: "inventorysvc", Path: "/products/BOOK-GO"})
	if err != nil {
		t.Fatal(err)
	}
	var p product
	if resp.Status != http.StatusOK {
		t.Fatalf("GET /products/BOOK-GO = %d %s; want 200", resp.Status, resp.Body)
	}
	if err := resp.JSON(&p); err != nil {
		t.Fatal(err)
	}
	if p.SKU != "BOOK-GO" || p.Name == "" || p.PriceCents <= 0 {
		t.Errorf("GET /products/BOOK-GO = %+v; want the seeded book", p)
	}
}
