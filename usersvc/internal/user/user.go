// Package user is the domain of the user service: accounts, their roles,
// the rules a registration must follow, and logging in. It knows nothing of
// Dapr or HTTP; it declares the Store, Hasher and Events it needs.
package user

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"shop/platform/validation"
)

// Roles. They are the role claim of access tokens, so they match
// platform/auth.RoleCustomer and RoleAdmin.
const (
	RoleCustomer = "customer"
	RoleAdmin    = "admin"
)

// Limits on what a client may send.
const (
	MaxEmailLen      = 254 // bytes; RFC 5321's limit on a forward path
	MinPasswordLen   = 8   // characters
	MaxPasswordBytes = 128 // bytes
	MaxNameLen       = 100 // characters, after trimming
)

// Errors the domain reports; adapters translate their own errors into these.
var (
	ErrNotFound           = errors.New("user not found")
	ErrEmailTaken         = errors.New("email already registered")
	ErrConflict           = errors.New("concurrent update")
	ErrInvalidCredentials = errors.New("invalid email or password")
	// ErrNotPublished accompanies a user that was stored but whose
	// user.registered event could not be published.
	ErrNotPublished = errors.New("user.registered not published")
)

// User is an account. PasswordHash never leaves the service.
type User struct {
	ID           string
	Email        string // normalised: see NormalizeEmail
	Name         string
	Role         string
	PasswordHash string
	CreatedAt    time.Time
}

// NormalizeEmail is the form an email is stored and compared in: trimmed
// and lower case, so that Ann@Example.com and ann@example.com are one
// account.
func NormalizeEmail(s string) string {
	return strings.ToLower(strings.TrimSpace(s))
}

// NormalizeName trims the spaces around a name.
func NormalizeName(s string) string {
	return strings.TrimSpace(s)
}

// checkEmail returns what is wrong with a normalised email, or "".
func checkEmail(email string) string {
	switch {
	case email == "":
		return "is required"
	case len(email) > MaxEmailLen:
		return fmt.Sprintf("must be at most %d bytes", MaxEmailLen)
	}
	// A bare address only: no display name, no angle brackets, no quoted or
	// commented forms that ParseAddress would rewrite.
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Name != "" || addr.Address != email {
		return "must be an email address such as name@example.com"
	}
	return ""
}

// checkPassword returns what is wrong with a new password, or "".
func checkPassword(password string) string {
	switch {
	case password == "":
		return "is required"
	case len(password) > MaxPasswordBytes:
		return fmt.Sprintf("must be at most %d bytes", MaxPasswordBytes)
	case !utf8.ValidString(password):
		return "must be valid UTF-8"
	case utf8.RuneCountInString(password) < MinPasswordLen:
		return fmt.Sprintf("must be at least %d characters", MinPasswordLen)
	}
	return ""
}

// checkName returns what is wrong with a trimmed name, or "".
func checkName(name string) string {
	switch {
	case name == "":
		return "is required"
	case !utf8.ValidString(name):
		return "must be valid UTF-8"
	case utf8.RuneCountInString(name) > MaxNameLen:
		return fmt.Sprintf("must be at most %d characters", MaxNameLen)
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return "must not contain control characters"
	}
	return ""
}

// ValidateRegistration checks a new account's normalised email, password and
// trimmed name, and reports every bad field at once.
func ValidateRegistration(email, password, name string) error {
	var v validation.Errors
	v.Check("email", checkEmail(email))
	v.Check("password", checkPassword(password))
	v.Check("name", checkName(name))
	return v.Err()
}

// ValidateName checks a trimmed display name.
func ValidateName(name string) error {
	var v validation.Errors
	v.Check("name", checkName(name))
	return v.Err()
}
