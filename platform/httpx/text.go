package httpx

import (
	"unicode"
	"unicode/utf8"

	"shop/platform/validation"
)

// CheckText returns what is wrong with a text field a person reads (a name,
// an email), or "": it must be valid UTF-8 without control characters or
// invisible formatting characters (zero-width spaces and joiners, bidi
// overrides and isolates, the byte-order mark, line and paragraph
// separators), which can make one text look like another.
func CheckText(s string) string {
	if !utf8.ValidString(s) {
		return "must be valid UTF-8"
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || unicode.In(r, unicode.Zl, unicode.Zp) {
			return "must not contain control or invisible formatting characters"
		}
	}
	return ""
}

// CheckTexts checks each named field with CheckText and returns a 400
// problem naming every bad one, or nil.
func CheckTexts(fields map[string]string) *Problem {
	var bad []validation.FieldError
	for name, v := range fields {
		if d := CheckText(v); d != "" {
			bad = append(bad, validation.FieldError{Field: name, Detail: d})
		}
	}
	if len(bad) == 0 {
		return nil
	}
	return Invalid(bad...)
}
