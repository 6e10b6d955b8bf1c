package httpx

import (
	"encoding/base64"
	"net/http"
	"strconv"

	"shop/platform/validation"
)

// Page is what a listing's query asks for: how many items, and the cursor
// to continue after ("" for the first page).
type Page struct {
	Size  int
	After string
}

// ParsePage reads page_size (1 to max, def when absent) and page_token (an
// opaque token made by PageToken, whose cursor valid accepts) from r's
// query. A bad value is a 400 problem naming the parameter.
func ParsePage(r *http.Request, def, max int, valid func(cursor string) bool) (Page, *Problem) {
	q := r.URL.Query()
	page := Page{Size: def}
	var bad []validation.FieldError
	if v := q.Get("page_size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > max {
			bad = append(bad, validation.FieldError{Field: "page_size", Detail: "must be a whole number from 1 to " + strconv.Itoa(max)})
		}
		page.Size = n
	}
	if v := q.Get("page_token"); v != "" {
		b, err := base64.RawURLEncoding.DecodeString(v)
		if err != nil || len(b) == 0 || !valid(string(b)) {
			bad = append(bad, validation.FieldError{Field: "page_token", Detail: "is not a token this API returned"})
		}
		page.After = string(b)
	}
	if len(bad) > 0 {
		return Page{}, Invalid(bad...)
	}
	return page, nil
}

// PageToken is the page_token that continues a listing after cursor, or ""
// when there is nothing more.
func PageToken(cursor string) string {
	if cursor == "" {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte(cursor))
}
