package httpx

import (
	"net/http/httptest"
	"testing"
)

func TestParsePage(t *testing.T) {
	valid := func(c string) bool { return c != "bad" }
	tests := []struct {
		query string
		want  Page
		field string
	}{
		{"", Page{Size: 20}, ""},
		{"?page_size=5", Page{Size: 5}, ""},
		{"?page_size=100&page_token=" + PageToken("k9"), Page{Size: 100, After: "k9"}, ""},
		{"?page_size=0", Page{}, "page_size"},
		{"?page_size=101", Page{}, "page_size"},
		{"?page_size=x", Page{}, "page_size"},
		{"?page_token=%21%21", Page{}, "page_token"},
		{"?page_token=" + PageToken("bad"), Page{}, "page_token"},
	}
	for _, tt := range tests {
		got, p := ParsePage(httptest.NewRequest("GET", "/things"+tt.query, nil), 20, 100, valid)
		if tt.field == "" {
			if p != nil || got != tt.want {
				t.Errorf("ParsePage(%q) = %+v, %v; want %+v", tt.query, got, p, tt.want)
			}
			continue
		}
		if p == nil || p.Status != 400 || len(p.Errors) != 1 || p.Errors[0].Field != tt.field {
			t.Errorf("ParsePage(%q) problem = %+v; want a 400 naming %s", tt.query, p, tt.field)
		}
	}
	if PageToken("") != "" {
		t.Error(`PageToken("") is not empty`)
	}
}
