package otlp

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

func str(k, v string) *commonpb.KeyValue {
	return &commonpb.KeyValue{Key: k, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: v}}}
}

// A protobuf export is received, and its trace printed as a tree.
func TestReceiveAndTree(t *testing.T) {
	tid := bytes.Repeat([]byte{1}, 16)
	span := func(id, parent byte, name string, start, end uint64, attrs ...*commonpb.KeyValue) *tracepb.Span {
		s := &tracepb.Span{TraceId: tid, SpanId: bytes.Repeat([]byte{id}, 8), Name: name, StartTimeUnixNano: start, EndTimeUnixNano: end, Attributes: attrs}
		if parent != 0 {
			s.ParentSpanId = bytes.Repeat([]byte{parent}, 8)
		}
		return s
	}
	req := &coltrace.ExportTraceServiceRequest{ResourceSpans: []*tracepb.ResourceSpans{{
		Resource: &resourcepb.Resource{Attributes: []*commonpb.KeyValue{str("service.name", "ordersvc")}},
		ScopeSpans: []*tracepb.ScopeSpans{{Spans: []*tracepb.Span{
			span(1, 0, "POST /orders", 0, 3_000_000, str("order.id", "o1")),
			span(2, 1, "publish orders", 1_000_000, 2_000_000),
			span(3, 9, "orphan", 0, 1_000_000),
		}}},
	}}}
	body, err := proto.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	store := &Store{}
	rec := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodPost, "/v1/traces", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/x-protobuf")
	Handler(store.Add).ServeHTTP(rec, r)
	if rec.Code != http.StatusOK {
		t.Fatalf("POST /v1/traces = %d %s", rec.Code, rec.Body)
	}
	ids := TraceIDs(store.Spans(), "o1")
	if len(ids) != 1 {
		t.Fatalf("TraceIDs(o1) = %v; want one", ids)
	}
	tree := Tree(Trace(store.Spans(), ids[0]))
	lines := strings.Split(strings.TrimSpace(tree), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "ordersvc") || !strings.HasPrefix(lines[1], "  ordersvc") ||
		!strings.Contains(lines[0], "3.00 ms") || !strings.Contains(tree, "orphan") || !strings.Contains(tree, "(parent missing)") {
		t.Errorf("Tree =\n%s\nwant POST /orders (3 ms) with publish under it, and the orphan marked", tree)
	}
}
