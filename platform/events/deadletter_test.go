package events

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	dapr "github.com/dapr/go-sdk/client"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// memState is a one-store fake with ETags and first-write semantics.
type memState struct {
	values map[string][]byte
	etags  map[string]int
}

func (m *memState) GetState(_ context.Context, _, key string, _ map[string]string) (*dapr.StateItem, error) {
	if m.values[key] == nil {
		return &dapr.StateItem{Key: key}, nil
	}
	return &dapr.StateItem{Key: key, Value: m.values[key], Etag: string(rune('0' + m.etags[key]))}, nil
}

func (m *memState) SaveStateWithETag(_ context.Context, _, key string, data []byte, etag string, _ map[string]string, _ ...dapr.StateOption) error {
	current := ""
	if m.values[key] != nil {
		current = string(rune('0' + m.etags[key]))
	}
	if etag != current {
		return status.Error(codes.Aborted, "possible etag mismatch")
	}
	m.values[key] = data
	m.etags[key]++
	return nil
}

func TestDeadLettersKeepsAndLists(t *testing.T) {
	st := &memState{values: map[string][]byte{}, etags: map[string]int{}}
	d := NewDeadLetters(st, "s")
	d.Keep = 2
	post := func(id, data string) string {
		rec := httptest.NewRecorder()
		d.Handler()(rec, httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"id":"`+id+`","topic":"orders-deadletter","data":`+data+`}`)))
		return rec.Body.String()
	}
	for _, tt := range []struct{ id, data string }{{"1", `{"type":"x"}`}, {"1", `{"type":"x"}`}, {"2", `"not json"`}, {"3", `{"k":3}`}} {
		if got := post(tt.id, tt.data); !strings.Contains(got, "SUCCESS") {
			t.Fatalf("dead letter %s answered %s; want SUCCESS", tt.id, got)
		}
	}
	rec := httptest.NewRecorder()
	d.ServeList(rec, httptest.NewRequest(http.MethodGet, "/dead-letters", nil))
	var out struct {
		DeadLetters []DeadLetter `json:"dead_letters"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	if len(out.DeadLetters) != 2 || out.DeadLetters[0].ID != "2" || out.DeadLetters[1].ID != "3" {
		t.Errorf("dead letters = %+v; want the newest two (2, 3), each once", out.DeadLetters)
	}
	if out.DeadLetters[0].Topic != "orders-deadletter" || string(out.DeadLetters[1].Data) != `{"k":3}` {
		t.Errorf("dead letter fields = %+v; want topic and data kept", out.DeadLetters)
	}
}
