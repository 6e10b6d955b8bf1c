package inventory

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"shop/platform/validation"
)

// Product is a sellable item and its stock. Received counts every unit ever
// put into stock, so that Received == Available + Reserved + Sold always.
type Product struct {
	SKU        string `json:"sku"`
	Name       string `json:"name"`
	PriceCents int64  `json:"price_cents"`
	Available  int64  `json:"available"`
	Reserved   int64  `json:"reserved"`
	Sold       int64  `json:"sold"`
	Received   int64  `json:"received"`
	// Marks holds, by order id, the steps applied to the product that the
	// order's reservation may not record yet (see Step): at most one per
	// order in flight, so its size follows the orders in flight, not the
	// orders ever placed.
	Marks map[string]Mark `json:"marks,omitempty"`
}

// CheckInvariant returns an error when the stock counters do not add up.
func (p Product) CheckInvariant() error {
	if p.Available < 0 || p.Reserved < 0 || p.Sold < 0 {
		return fmt.Errorf("product %s: negative stock (available %d, reserved %d, sold %d): %w", p.SKU, p.Available, p.Reserved, p.Sold, ErrInvariant)
	}
	if p.Received != p.Available+p.Reserved+p.Sold {
		return fmt.Errorf("product %s: received %d != available %d + reserved %d + sold %d: %w", p.SKU, p.Received, p.Available, p.Reserved, p.Sold, ErrInvariant)
	}
	return nil
}

// skuPattern is what a SKU looks like: upper-case letters, digits and dashes.
var skuPattern = regexp.MustCompile(`^[A-Z0-9][A-Z0-9-]{1,31}$`)

// ValidSKU reports whether s can name a product.
func ValidSKU(s string) bool { return skuPattern.MatchString(s) }

// Limits of what an admin can put into the catalog.
const (
	MaxNameLength = 100
	MinPriceCents = 1
	MaxPriceCents = 10_000_000
	MaxStock      = 1_000_000
	MaxRestock    = 1_000_000
)

// SKUDetail is what a client is told about a malformed SKU.
const SKUDetail = "must be 2-32 upper-case letters, digits or dashes, starting with a letter or digit"

// NewProduct is what an admin sends to add a product to the catalog.
type NewProduct struct {
	SKU        string
	Name       string
	PriceCents int64
	Stock      int64
}

// Product validates n and returns the product it describes, with all of
// its stock available. The name is trimmed of surrounding spaces.
func (n NewProduct) Product() (Product, error) {
	var bad validation.Errors
	if !ValidSKU(n.SKU) {
		bad.Add("sku", SKUDetail)
	}
	name := strings.TrimSpace(n.Name)
	if name == "" || utf8.RuneCountInString(name) > MaxNameLength || !utf8.ValidString(name) {
		bad.Add("name", fmt.Sprintf("must be 1 to %d characters, not only spaces", MaxNameLength))
	}
	if n.PriceCents < MinPriceCents || n.PriceCents > MaxPriceCents {
		bad.Add("price_cents", fmt.Sprintf("must be a whole number from %d to %d", MinPriceCents, MaxPriceCents))
	}
	if n.Stock < 0 || n.Stock > MaxStock {
		bad.Add("stock", fmt.Sprintf("must be a whole number from 0 to %d", MaxStock))
	}
	if err := bad.Err(); err != nil {
		return Product{}, err
	}
	return Product{SKU: n.SKU, Name: name, PriceCents: n.PriceCents, Available: n.Stock, Received: n.Stock}, nil
}

// ValidRestock checks the quantity of a restock.
func ValidRestock(quantity int64) error {
	if quantity < 1 || quantity > MaxRestock {
		return validation.Errors{{Field: "quantity", Detail: fmt.Sprintf("must be a whole number from 1 to %d", MaxRestock)}}
	}
	return nil
}

// Restock puts quantity newly received units into available stock.
func (p *Product) Restock(quantity int64) error {
	if err := ValidRestock(quantity); err != nil {
		return err
	}
	p.Available += quantity
	p.Received += quantity
	return p.CheckInvariant()
}
