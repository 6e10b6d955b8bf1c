package events

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
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

func (m *memState) GetBulkState(ctx context.Context, store string, keys []string, _ map[string]string, _ int32) ([]*dapr.BulkStateItem, error) {
	var out []*dapr.BulkStateItem
	for _, k := range keys {
		it, _ := m.GetState(ctx, store, k, nil)
		out = append(out, &dapr.BulkStateItem{Key: k, Value: it.Value, Etag: it.Etag})
	}
	return out, nil
}

func (m *memState) SaveState(_ context.Context, _, key string, data []byte, _ map[string]string, _ ...dapr.StateOption) error {
	m.values[key] = data
	m.etags[key]++
	return nil
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
	d := NewDeadLetters(st, "s", "ordersvc")
	post := func(id, data string) string {
		rec := httptest.NewRecorder()
		d.Handler()(rec, httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"id":"`+id+`","source":"ordersvc","topic":"orders-deadletter","data":`+data+`}`)))
		return rec.Body.String()
	}
	for _, tt := range []struct{ id, data string }{{"1", `{"type":"x"}`}, {"1", `{"type":"x"}`}, {"2", `"not json"`}, {"3", `{"k":3}`}} {
		if got := post(tt.id, tt.data); !strings.Contains(got, "SUCCESS") {
			t.Fatalf("dead letter %s answered %s; want SUCCESS", tt.id, got)
		}
	}
	// A letter from an app that does not publish the topic is dropped.
	forged := httptest.NewRecorder()
	d.Handler()(forged, httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"id":"9","source":"inventorysvc","topic":"orders-deadletter","data":{}}`)))
	if !strings.Contains(forged.Body.String(), "DROP") {
		t.Errorf("dead letter from another source answered %s; want DROP", forged.Body)
	}
	rec := httptest.NewRecorder()
	d.ServeList(rec, httptest.NewRequest(http.MethodGet, "/dead-letters", nil))
	var out struct {
		DeadLetters []DeadLetter `json:"dead_letters"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, l := range out.DeadLetters {
		ids = append(ids, l.ID)
		if l.Topic != "orders-deadletter" || (l.ID == "3" && string(l.Data) != `{"k":3}`) {
			t.Errorf("dead letter %+v; want topic and data kept", l)
		}
	}
	if !slices.Equal(ids, []string{"1", "2", "3"}) {
		t.Errorf("dead letters = %v; want 1, 2, 3, each once, oldest first", ids)
	}
}
