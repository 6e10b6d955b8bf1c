package httpx

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzDecodeJSON: any body and content type either decodes or is a 4xx
// problem; nothing panics.
func FuzzDecodeJSON(f *testing.F) {
	for _, seed := range []string{`{"name":"a","count":2,"inner":{"flag":true}}`, `{"name":`, `[1]`, `{}{}`, `{"role":"x"}`, "{\"name\":\"\xff\"}", `{"count":1e400}`, strings.Repeat("[", 100)} {
		f.Add(seed, "application/json")
	}
	f.Add(`name=a`, "application/x-www-form-urlencoded")
	f.Fuzz(func(t *testing.T, body, contentType string) {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		var dst payload
		if p := DecodeJSON(httptest.NewRecorder(), req, &dst); p != nil && (p.Status < 400 || p.Status > 499) {
			t.Errorf("DecodeJSON(%q, %q) = status %d; want a 4xx", body, contentType, p.Status)
		}
	})
}

// FuzzParsePage: any query is a page or a 400 naming the parameter.
func FuzzParsePage(f *testing.F) {
	for _, seed := range []string{"", "page_size=5", "page_size=-1", "page_token=" + PageToken("k9"), "page_token=%ff", "page_size=99999999999999999999"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, query string) {
		req := httptest.NewRequest(http.MethodGet, "/things", nil)
		req.URL.RawQuery = query
		page, p := ParsePage(req, 20, 100, func(c string) bool { return !strings.Contains(c, "||") })
		switch {
		case p != nil && p.Status != http.StatusBadRequest:
			t.Errorf("ParsePage(%q) = status %d; want 400", query, p.Status)
		case p == nil && (page.Size < 1 || page.Size > 100 || strings.Contains(page.After, "||")):
			t.Errorf("ParsePage(%q) = %+v; want a size from 1 to 100 and a valid cursor", query, page)
		}
	})
}

// FuzzCheckText: whatever CheckText accepts is valid UTF-8 without control
// or format characters.
func FuzzCheckText(f *testing.F) {
	for _, seed := range []string{"Ann", "a\u202eb", "a\x00", "\xff"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if CheckText(s) != "" {
			return
		}
		if !utf8.ValidString(s) {
			t.Errorf("CheckText(%q) accepted invalid UTF-8", s)
		}
		for _, r := range s {
			if r < 0x20 || r == 0x7f || (r >= 0x200b && r <= 0x200f) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) {
				t.Errorf("CheckText(%q) accepted rune %U", s, r)
			}
		}
	})
}
