// Package validation is how every layer names the bad fields of a request:
// a domain returns an *Error listing them, and platform/httpx writes it as
// a 400 problem with one entry per field. It imports nothing but the
// standard library, so a domain package may use it.
package validation

import "strings"

// FieldError names one bad field of a request and what is wrong with it.
type FieldError struct {
	Field  string `json:"field"`
	Detail string `json:"detail"`
}

// Error lists every bad field of a request.
type Error struct {
	Fields []FieldError
}

func (e *Error) Error() string {
	parts := make([]string, 0, len(e.Fields))
	for _, f := range e.Fields {
		parts = append(parts, f.Field+" "+f.Detail)
	}
	return "invalid: " + strings.Join(parts, "; ")
}

// Errors collects the bad fields of a request as it is checked.
type Errors []FieldError

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

// Err is the *Error of the fields collected, or nil when there are none.
func (v Errors) Err() error {
	if len(v) == 0 {
		return nil
	}
	return &Error{Fields: v}
}
