package events

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

type created struct {
	Type    string `json:"type"`
	OrderID string `json:"order_id"`
}

func TestDecodeAcceptsObjectAndString(t *testing.T) {
	for name, data := range map[string]string{
		"object (direct publish)": `{"type":"order.created","order_id":"o1"}`,
		"string (text/plain)":     `"{\"type\":\"order.created\",\"order_id\":\"o1\"}"`,
	} {
		e := CloudEvent{Data: json.RawMessage(data)}
		var got created
		if err := e.Decode(&got); err != nil || got.OrderID != "o1" || got.Type != "order.created" {
			t.Errorf("%s: Decode() = %+v, %v; want order o1", name, got, err)
		}
	}
	for _, data := range []string{``, `null`, `"not json"`, `"{"`} {
		var got created
		if err := (CloudEvent{Data: json.RawMessage(data)}).Decode(&got); err == nil {
			t.Errorf("Decode(%q) = nil error; want one", data)
		}
	}
}

func TestHandleAnswersDaprContract(t *testing.T) {
	tests := []struct {
		name string
		body string
		err  error
		want string
	}{
		{"done", `{"id":"1","data":{}}`, nil, "SUCCESS"},
		{"attributes it does not list", `{"specversion":"1.0","id":"1","time":"2026-01-01T00:00:00Z","traceid":"x","data":{}}`, nil, "SUCCESS"},
		{"transient", `{"id":"1","data":{}}`, errors.New("store unavailable"), "RETRY"},
		{"poison", `{"id":"1","data":{}}`, fmt.Errorf("bad order id: %w", ErrDrop), "DROP"},
		{"not a cloud event", `[1,2]`, nil, "DROP"},
	}
	for _, tt := range tests {
		called := false
		h := Handle(func(_ *http.Request, e CloudEvent) error {
			called = true
			if e.ID != "1" {
				t.Errorf("%s: event id = %q; want 1", tt.name, e.ID)
			}
			return tt.err
		})
		rec := httptest.NewRecorder()
		h(rec, httptest.NewRequest(http.MethodPost, "/events", strings.NewReader(tt.body)))
		var got struct{ Status string }
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || rec.Code != http.StatusOK || got.Status != tt.want {
			t.Errorf("%s: answered %d %s; want 200 with status %s", tt.name, rec.Code, rec.Body, tt.want)
		}
		if tt.name == "not a cloud event" && called {
			t.Errorf("%s: handler called for a body that is not a CloudEvent", tt.name)
		}
	}
}

func TestHandleFromDropsOtherSources(t *testing.T) {
	for _, tt := range []struct {
		source string
		want   string
		called bool
	}{{"ordersvc-x1", "SUCCESS", true}, {"inventorysvc-x1", "DROP", false}, {"", "DROP", false}, {"ORDERSVC-X1", "DROP", false}} {
		called := false
		h := HandleFrom([]string{"ordersvc-x1"}, func(*http.Request, CloudEvent) error { called = true; return nil })
		rec := httptest.NewRecorder()
		h(rec, httptest.NewRequest(http.MethodPost, "/events/orders", strings.NewReader(`{"id":"1","source":"`+tt.source+`","data":{}}`)))
		if !strings.Contains(rec.Body.String(), tt.want) || called != tt.called {
			t.Errorf("source %q: answered %s, handler called %v; want %s, called %v", tt.source, rec.Body, called, tt.want, tt.called)
		}
	}
}
