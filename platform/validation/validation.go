// Package validation is how every layer names the bad fields of a request:
// a domain returns Errors listing them, and platform/httpx writes it as
// a 400 problem with one entry per field. It imports nothing but the
// standard library, so a domain package may use it.
package validation

import "strings"

// FieldError names one bad field of a request and what is wrong with it.
type FieldError struct {
	Field  string `json:"field"`
	Detail string `json:"detail"`
}

// Errors lists every bad field of a request. It is the error a domain
// returns for them (Err), and collects them as a request is checked.
type Errors []FieldError

func (v Errors) Error() string {
	parts := make([]string, 0, len(v))
	for _, f := range v {
		parts = append(parts, f.Field+" "+f.Detail)
	}
	return "invalid: " + strings.Join(parts, "; ")
}

// Add adds field with detail.
func (v *Errors) Add(field, detail string) {
	*v = append(*v, FieldError{Field: field, Detail: detail})
}

// Check adds field when detail is not empty (a check that found nothing
// wrong answers "").
func (v *Errors) Check(field, detail string) {
	if detail != "" {
		v.Add(field, detail)
	}
}

// Err is v as an error, or nil when it lists no field.
func (v Errors) Err() error {
	if len(v) == 0 {
		return nil
	}
	return v
}
