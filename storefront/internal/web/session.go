package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"shop/platform/auth"
)

// Cookie names. Every cookie of the storefront is HttpOnly and
// SameSite=Strict on the storefront's own origin: page scripts never see the
// access token, and no other site's page can make the browser send it.
const (
	sessionCookie = "sf_session" // the access token from usersvc
	csrfCookie    = "sf_csrf"    // the CSRF secret that every form echoes
	cartCookie    = "sf_cart"    // the cart: SKU:quantity,...
)

// session is the signed-in person, read from the access token. The token is
// not verified here: the services verify it on every call, and the role only
// chooses which links the pages show.
type session struct {
	Token string
	Role  string
}

// Admin reports whether the person signed in with the admin role.
func (s *session) Admin() bool { return s != nil && s.Role == auth.RoleAdmin }

func (h *Handler) session(r *http.Request) *session {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil
	}
	s := &session{Token: c.Value}
	parts := strings.Split(c.Value, ".")
	if len(parts) == 3 {
		if payload, err := base64.RawURLEncoding.DecodeString(parts[1]); err == nil {
			var claims struct {
				Role string `json:"role"`
			}
			if json.Unmarshal(payload, &claims) == nil {
				s.Role = claims.Role
			}
		}
	}
	return s
}

func (h *Handler) setCookie(w http.ResponseWriter, name, value string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: "/", MaxAge: int(maxAge.Seconds()),
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: h.deps.SecureCookies,
	})
}

func (h *Handler) clearCookie(w http.ResponseWriter, name string) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: h.deps.SecureCookies,
	})
}

// randomHex returns n random bytes, hex-encoded.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

// csrfToken returns the request's CSRF secret, setting a new one when the
// browser has none. Forms carry it in the field "csrf" (double submit: a
// page of another origin can neither read the cookie nor the page).
func (h *Handler) csrfToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) == 64 {
		return c.Value
	}
	tok := randomHex(32)
	h.setCookie(w, csrfCookie, tok, 24*time.Hour)
	// The rest of this request renders forms with the new token.
	r.AddCookie(&http.Cookie{Name: csrfCookie, Value: tok})
	return tok
}

// checkCSRF reports whether a state-changing request comes from the
// storefront's own pages: its Origin (when the browser sends one) is this
// host, and its form echoes the CSRF cookie.
func checkCSRF(r *http.Request) bool {
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || u.Host != r.Host {
			return false
		}
	}
	c, err := r.Cookie(csrfCookie)
	if err != nil || len(c.Value) != 64 {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostFormValue("csrf"))) == 1
}

// cartLine is one line of the cart.
type cartLine struct {
	SKU      string
	Quantity int64
}

const maxCartLines = 50

// readCart parses the cart cookie, skipping anything malformed.
func readCart(r *http.Request) []cartLine {
	c, err := r.Cookie(cartCookie)
	if err != nil {
		return nil
	}
	var lines []cartLine
	for _, part := range strings.Split(c.Value, ",") {
		sku, q, ok := strings.Cut(part, ":")
		n, err := strconv.ParseInt(q, 10, 64)
		if !ok || err != nil || n < 1 || n > 1000 || !validSKU(sku) || len(lines) == maxCartLines {
			continue
		}
		lines = append(lines, cartLine{SKU: sku, Quantity: n})
	}
	return lines
}

func (h *Handler) writeCart(w http.ResponseWriter, lines []cartLine) {
	if len(lines) == 0 {
		h.clearCookie(w, cartCookie)
		return
	}
	parts := make([]string, len(lines))
	for i, l := range lines {
		parts[i] = l.SKU + ":" + strconv.FormatInt(l.Quantity, 10)
	}
	h.setCookie(w, cartCookie, strings.Join(parts, ","), 30*24*time.Hour)
}

// validSKU matches the catalog's SKU pattern ^[A-Z0-9][A-Z0-9-]{1,31}$.
func validSKU(s string) bool {
	if len(s) < 2 || len(s) > 32 {
		return false
	}
	for i, c := range s {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' && i > 0) {
			return false
		}
	}
	return true
}
