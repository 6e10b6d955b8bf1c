package httpx

import "testing"

func TestCheckText(t *testing.T) {
	for s, ok := range map[string]bool{
		"Ann Smith": true, "Zoë Ørsted": true, "山田 太郎": true, "ann@example.com": true,
		"a\x00b": false, "a\nb": false, "a\x7fb": false, "a\u200bb": false, "a\u200db": false,
		"a\u202eb": false, "a\u2066b": false, "\ufeffa": false, "a\u2028b": false, "a\xffb": false,
	} {
		if got := CheckText(s) == ""; got != ok {
			t.Errorf("CheckText(%q) ok = %v; want %v", s, got, ok)
		}
	}
	if p := CheckTexts(map[string]string{"name": "a\u202eb", "email": "ok"}); p == nil || p.Status != 400 || len(p.Errors) != 1 || p.Errors[0].Field != "name" {
		t.Errorf("CheckTexts() = %+v; want a 400 naming name", p)
	}
}
