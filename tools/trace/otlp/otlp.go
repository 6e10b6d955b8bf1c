// Package otlp receives spans over OTLP/HTTP (POST /v1/traces, protobuf or
// JSON), as the sidecars and the apps export them, keeps them as plain
// Spans, and prints a trace as a tree. It is the development trace
// receiver of tools/trace and the end-to-end tests' collector; it is not
// a trace store for production (use an OpenTelemetry Collector there).
package otlp

import (
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// Span is one received span.
type Span struct {
	TraceID  string            `json:"trace_id"`
	SpanID   string            `json:"span_id"`
	ParentID string            `json:"parent_id,omitempty"`
	Service  string            `json:"service"`
	Name     string            `json:"name"`
	Kind     string            `json:"kind"`
	Start    time.Time         `json:"start"`
	End      time.Time         `json:"end"`
	Attrs    map[string]string `json:"attrs,omitempty"`
	Error    bool              `json:"error,omitempty"`
}

// Duration is how long the span took.
func (s Span) Duration() time.Duration { return s.End.Sub(s.Start) }

// maxBody bounds one export request.
const maxBody = 16 << 20

// Handler answers POST /v1/traces, handing the spans of each request to
// sink.
func Handler(sink func([]Span)) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/traces", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var req coltrace.ExportTraceServiceRequest
		json := strings.HasPrefix(r.Header.Get("Content-Type"), "application/json")
		if json {
			err = protojson.Unmarshal(body, &req)
		} else {
			err = proto.Unmarshal(body, &req)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		sink(Spans(&req))
		resp, _ := proto.Marshal(&coltrace.ExportTraceServiceResponse{})
		if json {
			resp, _ = protojson.Marshal(&coltrace.ExportTraceServiceResponse{})
			w.Header().Set("Content-Type", "application/json")
		} else {
			w.Header().Set("Content-Type", "application/x-protobuf")
		}
		_, _ = w.Write(resp)
	})
	return mux
}

// Spans flattens an export request.
func Spans(req *coltrace.ExportTraceServiceRequest) []Span {
	var out []Span
	for _, rs := range req.GetResourceSpans() {
		service := attrs(rs.GetResource().GetAttributes())["service.name"]
		for _, ss := range rs.GetScopeSpans() {
			for _, sp := range ss.GetSpans() {
				s := Span{
					TraceID: hex.EncodeToString(sp.GetTraceId()), SpanID: hex.EncodeToString(sp.GetSpanId()),
					Service: service, Name: sp.GetName(), Kind: strings.TrimPrefix(sp.GetKind().String(), "SPAN_KIND_"),
					Start: time.Unix(0, int64(sp.GetStartTimeUnixNano())).UTC(), End: time.Unix(0, int64(sp.GetEndTimeUnixNano())).UTC(),
					Attrs: attrs(sp.GetAttributes()), Error: sp.GetStatus().GetCode() == 2,
				}
				if p := sp.GetParentSpanId(); len(p) > 0 {
					s.ParentID = hex.EncodeToString(p)
				}
				out = append(out, s)
			}
		}
	}
	return out
}

func attrs(kvs []*commonpb.KeyValue) map[string]string {
	m := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		v := kv.GetValue()
		switch {
		case v.GetStringValue() != "":
			m[kv.GetKey()] = v.GetStringValue()
		case v.GetValue() != nil:
			m[kv.GetKey()] = strings.Trim(fmt.Sprint(v.GetValue()), "&{}")
		}
	}
	return m
}

// Store keeps received spans in memory.
type Store struct {
	mu    sync.Mutex
	spans []Span
}

// Add keeps spans (a Handler's sink).
func (s *Store) Add(spans []Span) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.spans = append(s.spans, spans...)
}

// Spans returns every span kept.
func (s *Store) Spans() []Span {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Span(nil), s.spans...)
}

// TraceIDs are the traces with a span that has an attribute of the value
// v (an order id: the apps' spans carry order.id), in the order their
// first such span arrived.
func TraceIDs(spans []Span, v string) []string {
	var ids []string
	seen := map[string]bool{}
	for _, s := range spans {
		for _, a := range s.Attrs {
			if a == v && !seen[s.TraceID] {
				seen[s.TraceID] = true
				ids = append(ids, s.TraceID)
			}
		}
	}
	return ids
}

// Trace returns the spans of one trace, by start time.
func Trace(spans []Span, traceID string) []Span {
	var out []Span
	for _, s := range spans {
		if s.TraceID == traceID {
			out = append(out, s)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out
}

// Tree prints one trace's spans as a tree: each span under its parent,
// with its service, name and duration. A span whose parent was not
// received is printed at the top, marked "(parent missing)".
func Tree(spans []Span) string {
	byID := map[string]bool{}
	children := map[string][]Span{}
	for _, s := range spans {
		byID[s.SpanID] = true
	}
	var roots []Span
	for _, s := range spans {
		if s.ParentID == "" || !byID[s.ParentID] {
			roots = append(roots, s)
		} else {
			children[s.ParentID] = append(children[s.ParentID], s)
		}
	}
	var b strings.Builder
	var walk func(s Span, depth int)
	walk = func(s Span, depth int) {
		mark := ""
		if s.ParentID != "" && !byID[s.ParentID] {
			mark = " (parent missing)"
		}
		if s.Error {
			mark += " ERROR"
		}
		fmt.Fprintf(&b, "%s%-22s %-44s %9.2f ms%s\n", strings.Repeat("  ", depth), s.Service, s.Name,
			float64(s.Duration().Microseconds())/1000, mark)
		for _, c := range children[s.SpanID] {
			walk(c, depth+1)
		}
	}
	for _, r := range roots {
		walk(r, 0)
	}
	return b.String()
}
