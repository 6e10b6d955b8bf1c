package events

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzHandle: any delivery body gets a Dapr answer (SUCCESS, RETRY or
// DROP), and the handler sees only events from the topic's publisher.
func FuzzHandle(f *testing.F) {
	for _, seed := range []string{
		`{"id":"1","source":"ordersvc","data":{"type":"order.created","order_id":"o1"}}`,
		`{"id":"1","source":"ordersvc","data":"{\"type\":\"x\"}"}`,
		`{"id":"1","source":"evil","data":{}}`, `[1,2]`, `{"data":null}`, `{`, ``,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		h := HandleFrom([]string{"ordersvc"}, func(_ *http.Request, e CloudEvent) error {
			if e.Source != "ordersvc" {
				t.Errorf("handler called for source %q", e.Source)
			}
			var v map[string]any
			_ = e.Decode(&v)
			return nil
		})
		rec := httptest.NewRecorder()
		h(rec, httptest.NewRequest(http.MethodPost, "/events", strings.NewReader(body)))
		var got struct{ Status string }
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || rec.Code != http.StatusOK ||
			(got.Status != "SUCCESS" && got.Status != "RETRY" && got.Status != "DROP") {
			t.Errorf("body %q answered %d %s; want 200 with a Dapr status", body, rec.Code, rec.Body)
		}
	})
}
