// Package browser drives the storefront's pages in a real headless
// Chromium (over WebDriver, through chromedriver) against a whole running
// system: the services, their sidecars, the storefront and its sidecar.
//
// Run: go test ./e2e/browser   (profile from $E2E_PROFILE, default local)
//
// Screenshots of every step go to a folder the test prints
// ($STOREFRONT_SCREENSHOTS names one: the README's pictures in
// docs/storefront come from a run with it set there). Debian's chromium and chromium-driver must be installed
// (scripts/setup.sh does it).
package browser

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"shop/e2e/harness"
)

var sys *harness.System

// paymentDelay is how long each charge takes in this system.
const paymentDelay = 3 * time.Second

func TestMain(m *testing.M) {
	// Every charge takes paymentDelay, so that the orders page shows an
	// order pending first and its script (not a reload) moves it on.
	s, err := harness.Start(context.Background(), harness.Options{Storefront: true,
		Env: map[string]string{"PAYMENT_DELAY": paymentDelay.String()}})
	if err != nil {
		fmt.Fprintln(os.Stderr, "start the system:", err)
		os.Exit(1)
	}
	sys = s
	code := m.Run()
	if code != 0 {
		fmt.Fprint(os.Stderr, s.Logs())
	}
	s.Stop()
	os.Exit(code)
}

// shopper is one browser session on the storefront, saving a screenshot
// of each step it names.
type shopper struct {
	t     *testing.T
	ctx   context.Context
	d     *driver
	base  string
	shots string
	n     int
}

func newShopper(t *testing.T) *shopper {
	t.Helper()
	shots := os.Getenv("STOREFRONT_SCREENSHOTS")
	if shots == "" {
		var err error
		if shots, err = os.MkdirTemp("", "storefront-screenshots-"); err != nil {
			t.Fatal(err)
		}
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots of each step: %s", shots)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	t.Cleanup(cancel)
	d, err := startDriver(ctx, t.TempDir(), filepath.Join(shots, "chromedriver.log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.quit)
	return &shopper{t: t, ctx: ctx, d: d, base: sys.StorefrontURL(), shots: shots}
}

// must fails the test on err, with a screenshot of where it happened.
func (s *shopper) must(err error, what string) {
	s.t.Helper()
	if err != nil {
		_ = s.d.screenshot(s.ctx, filepath.Join(s.shots, "failure.png"))
		s.t.Fatalf("%s: %v (screenshot: %s)", what, err, filepath.Join(s.shots, "failure.png"))
	}
}

func (s *shopper) open(path string) {
	s.t.Helper()
	s.must(s.d.navigate(s.ctx, s.base+path), "open "+path)
}

func (s *shopper) typeInto(css, text string) {
	s.t.Helper()
	s.must(s.d.typeInto(s.ctx, css, text), "type into "+css)
}

func (s *shopper) click(css string) {
	s.t.Helper()
	s.must(s.d.click(s.ctx, css), "click "+css)
}

func (s *shopper) text(css string) string {
	s.t.Helper()
	txt, err := s.d.text(s.ctx, css)
	s.must(err, "read "+css)
	return txt
}

// shot saves a screenshot of the page, named for the step.
func (s *shopper) shot(name string) {
	s.t.Helper()
	s.n++
	file := filepath.Join(s.shots, fmt.Sprintf("%02d-%s.png", s.n, name))
	s.must(s.d.screenshot(s.ctx, file), "screenshot "+name)
}

// waitText waits until the element's text contains want.
func (s *shopper) waitText(css, want string, timeout time.Duration) {
	s.t.Helper()
	s.waitFor("", css, timeout, func(got string) bool { return strings.Contains(got, want) }, "contain "+want)
}

// waitFor polls until the text of css satisfies ok, loading path first on
// each try when path is not "".
func (s *shopper) waitFor(path, css string, timeout time.Duration, ok func(string) bool, want string) {
	s.t.Helper()
	err := harness.Eventually(s.ctx, timeout, func() error {
		if path != "" {
			if err := s.d.navigate(s.ctx, s.base+path); err != nil {
				return err
			}
		}
		got, err := s.d.text(s.ctx, css)
		if err != nil {
			return err
		}
		if !ok(got) {
			return fmt.Errorf("%s %s says %q, want it to %s", path, css, got, want)
		}
		return nil
	})
	s.must(err, "wait for "+path+" "+css)
}

func nonEmpty(text string) bool { return text != "" }

// waitGone waits until nothing matches css.
func (s *shopper) waitGone(css string, timeout time.Duration) {
	s.t.Helper()
	err := harness.Eventually(s.ctx, timeout, func() error {
		n, err := s.d.count(s.ctx, css)
		if err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("%d elements still match %s", n, css)
		}
		return nil
	})
	s.must(err, "wait for "+css+" to go")
}

// path is the path of the page the browser shows.
func (s *shopper) path() string {
	s.t.Helper()
	u, err := s.d.currentURL(s.ctx)
	s.must(err, "current URL")
	return strings.TrimPrefix(u, s.base)
}

// signIn signs in with the keyboard: the password field submits on Enter.
func (s *shopper) signIn(email, password string) {
	s.t.Helper()
	s.open("/signin")
	s.typeInto("#email", email)
	s.typeInto("#password", password+keyEnter)
	s.waitText("nav", "Sign out", 10*time.Second)
}

func (s *shopper) signOut() {
	s.t.Helper()
	s.click("nav form[action='/signout'] button")
	s.waitText("nav", "Sign in", 10*time.Second)
}

// The whole of a shopper's visit, and an admin's, in the browser: field
// errors from the API's problem details next to their fields; register and
// sign in; two products into the cart; an approved card's order turning
// confirmed live; a declined card's order turning cancelled with its
// reason; cancelling the confirmed order puts the stock back; an admin
// restocks.
func TestStorefront(t *testing.T) {
	s := newShopper(t)
	run := strings.ToUpper(fmt.Sprintf("%x", time.Now().UnixNano()%0xffffff))
	skuA, skuB := "SF-"+run+"-A", "SF-"+run+"-B"

	// The admin creates the two products the shopper buys.
	s.signIn(sys.AdminEmail, sys.AdminPassword)
	s.open("/admin")
	s.typeInto("#sku", "not a sku")
	s.typeInto("#name", "Storefront mug")
	s.typeInto("#price_cents", "1450")
	s.typeInto("#stock", "5")
	s.click("form[action='/admin/products'] button")
	// The click returns once the form is sent, not once the answer is shown.
	s.waitFor("", "#sku-error", 10*time.Second, nonEmpty, "say what is wrong with the SKU")
	if v, _ := s.d.attribute(s.ctx, "#sku", "aria-invalid"); v != "true" {
		t.Errorf("the SKU field is not marked invalid (aria-invalid=%q)", v)
	}
	s.shot("admin-field-error")
	for _, p := range []struct{ sku, name, price string }{{skuA, "Storefront mug", "1450"}, {skuB, "Storefront tote bag", "2200"}} {
		s.typeInto("#sku", p.sku)
		s.typeInto("#name", p.name)
		s.typeInto("#price_cents", p.price)
		s.typeInto("#stock", "5")
		s.click("form[action='/admin/products'] button")
		s.waitText("#product-"+p.sku+" .available", "5", 10*time.Second)
	}
	s.signOut()

	// Register: a short password is refused next to the password field.
	email := "shopper-" + strings.ToLower(run) + "@shop.test"
	s.open("/register")
	s.typeInto("#name", "Grace")
	s.typeInto("#email", email)
	s.typeInto("#password", "short")
	s.click("form[action='/register'] button")
	s.waitFor("", "#password-error", 10*time.Second, nonEmpty, "say what is wrong with the password")
	s.shot("register-field-error")
	s.typeInto("#password", "correct horse battery")
	s.click("form[action='/register'] button")
	s.waitText(".notice", "Your account is ready", 10*time.Second)
	s.signIn(email, "correct horse battery")

	// The catalog, with price and stock; two products into the cart.
	s.open("/")
	s.waitText("#product-"+skuA+" .stock", "5 in stock", 10*time.Second)
	s.waitText("#product-"+skuA+" .price", "$14.50", time.Second)
	s.shot("catalog")
	s.click("#product-" + skuA + " form button")
	s.waitText(".notice", "Added", 10*time.Second)
	s.open("/")
	s.click("#product-" + skuB + " form button")
	s.waitText("#cart-total", "$36.50", 10*time.Second)
	s.shot("cart")

	// Checkout with the approved card: the order turns confirmed live.
	s.click("#checkout")
	s.waitText("#checkout-total", "$36.50", 10*time.Second)
	s.click("#card-tok_visa")
	s.shot("checkout")
	s.click("#place-order")
	s.waitText(".notice", "Order placed", 10*time.Second)
	first := s.placedOrder()
	s.expectPending(first)
	s.shot("order-pending")
	s.waitText("#order-"+first+" .status", "confirmed", 30*time.Second)
	s.shot("order-confirmed")
	if n, _ := s.d.count(s.ctx, "#order-"+first+" form.cancel"); n != 1 {
		t.Errorf("a confirmed order has %d cancel buttons, want 1", n)
	}

	// Checkout with the declined card: cancelled, with the reason.
	s.open("/products/" + skuA)
	s.click("form[action='/cart/add'] button")
	s.waitText(".notice", "Added", 10*time.Second)
	s.click("#checkout")
	s.click("#card-tok_decline")
	s.click("#place-order")
	s.waitText(".notice", "Order placed", 10*time.Second)
	declined := s.placedOrder()
	if declined == first {
		t.Fatalf("the second checkout leads to the first order %s", first)
	}
	s.expectPending(declined)
	s.waitText("#order-"+declined+" .status", "cancelled", 30*time.Second)
	s.waitText("#order-"+declined+" .reason", "declined", time.Second)
	s.waitGone("#order-"+declined+" form.cancel", 5*time.Second)
	s.shot("order-declined")

	// Cancel the confirmed order: its stock comes back.
	s.waitPage("/products/"+skuA, ".stock", "4 in stock", 30*time.Second)
	s.open("/orders")
	s.click("#order-" + first + " form.cancel button")
	s.waitText(".notice", "Order cancelled", 10*time.Second)
	s.waitText("#order-"+first+" .status", "cancelled", 10*time.Second)
	s.waitText("#order-"+first+" .reason", "you cancelled it", time.Second)
	s.shot("order-cancelled")
	for _, sku := range []string{skuA, skuB} {
		s.waitPage("/products/"+sku, ".stock", "5 in stock", 30*time.Second)
	}
	s.shot("stock-back")

	// On a phone-sized window the catalog still reads.
	s.must(s.d.setWindowSize(s.ctx, 390, 844), "phone-sized window")
	s.open("/")
	s.shot("catalog-phone")
	s.must(s.d.setWindowSize(s.ctx, 1280, 900), "desktop window")

	// A shopper has no admin page; an admin restocks.
	s.open("/admin")
	s.waitText("main", "for the shop's admins", 5*time.Second)
	s.signOut()
	s.signIn(sys.AdminEmail, sys.AdminPassword)
	s.open("/admin")
	s.typeInto("#restock-"+skuA, "10")
	s.click("#product-" + skuA + " form button")
	s.waitText(".notice", "Product restocked", 10*time.Second)
	s.waitText("#product-"+skuA+" .available", "15", 5*time.Second)
	s.shot("admin-restocked")
}

// placedOrder is the id of the order the checkout just placed: the
// storefront sends the browser to /orders#order-<id>.
func (s *shopper) placedOrder() string {
	s.t.Helper()
	p := s.path()
	_, id, ok := strings.Cut(p, "#order-")
	if !strings.HasPrefix(p, "/orders") || !ok || id == "" {
		s.must(fmt.Errorf("on %s", p), "the placed order's place on the orders page")
	}
	return id
}

// expectPending checks that the orders page shows the order pending: the
// charge takes paymentDelay, longer than the page takes to load. What
// follows then waits on the same page, which only its script can change.
func (s *shopper) expectPending(id string) {
	s.t.Helper()
	if got := s.text("#order-" + id + " .status"); got != "pending" {
		s.t.Fatalf("order %s is %q on the page just after checkout; want pending (each charge takes %v)", id, got, paymentDelay)
	}
}

// waitPage loads path until the element's text is want.
func (s *shopper) waitPage(path, css, want string, timeout time.Duration) {
	s.t.Helper()
	s.waitFor(path, css, timeout, func(got string) bool { return got == want }, "be "+want)
}
